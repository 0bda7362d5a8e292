import type { IncomingMessage, ServerResponse } from 'node:http';
import PDFDocument from 'pdfkit';
import { AccessChecker, can, type AccessResolver } from '@listbackup/lib/access';
import type { Orm } from '@listbackup/lib/db';
import { sendJson } from '@listbackup/lib/http';
import { isUuid } from '@listbackup/lib/ids';
import type { InternalClaims } from '@listbackup/lib/internal-token';
import { signLink, verifyLink } from '@listbackup/lib/signed-links';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { Invoice } from '../entities/invoice.ts';

export const INVOICE_DOWNLOAD_ROUTE = '/internal/invoices/download';
/** The gateway's public path for it. */
export const PUBLIC_INVOICE_PATH = '/downloads/invoice';
const LINK_LIFETIME_MS = 15 * 60_000;

export type InvoiceFormat = 'html' | 'pdf';

export interface InvoiceLinks {
  key: Buffer;
  publicUrl: string;
  /** Who issues the invoices, as printed on them. */
  issuerName: string;
}

/** A link (valid 15 minutes) to the invoice as HTML or PDF; following it needs billing:read on its account too. */
export function invoiceLink(links: InvoiceLinks, invoice: Invoice, format: InvoiceFormat, now = Date.now()): string {
  const token = signLink(links.key, { i: invoice.id, a: invoice.accountId, f: format, e: Math.floor((now + LINK_LIFETIME_MS) / 1000) });
  return new URL(`${PUBLIC_INVOICE_PATH}?token=${token}`, links.publicUrl).toString();
}

/** The currencies invoices use all have cents (two decimals). */
export function formatMoney(cents: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
}

const formatQuantity = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 4 });
const day = (date: Date) => date.toISOString().slice(0, 10);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What both documents print, in order. */
function rows(invoice: Invoice) {
  return invoice.lines.map((line) => ({
    description: line.description,
    quantity: line.kind === 'STORAGE' ? `${formatQuantity(line.quantity)} GB-months (${formatQuantity(line.includedQuantity ?? 0)} included)` : `${formatQuantity(line.quantity)} months`,
    unit: formatMoney(line.unitPriceCents, invoice.currency),
    amount: formatMoney(line.amountCents, invoice.currency),
  }));
}

export function invoiceHtml(invoice: Invoice, issuerName: string): string {
  const body = rows(invoice)
    .map((r) => `<tr><td>${escapeHtml(r.description)}</td><td>${escapeHtml(r.quantity)}</td><td class="n">${escapeHtml(r.unit)}</td><td class="n">${escapeHtml(r.amount)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice ${escapeHtml(invoice.number)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}.n{text-align:right}</style></head>
<body>
<h1>Invoice ${escapeHtml(invoice.number)}</h1>
<p>${escapeHtml(issuerName)}<br>Account ${escapeHtml(invoice.accountId)}<br>Period ${day(invoice.periodStart)} to ${day(new Date(invoice.periodEnd.getTime() - 1))}<br>Issued ${day(invoice.createdAt)}<br>Status ${invoice.status === 'PAID' ? `paid ${invoice.paidAt ? day(invoice.paidAt) : ''}` : 'open'}</p>
<table><thead><tr><th>Description</th><th>Quantity</th><th class="n">Unit price</th><th class="n">Amount</th></tr></thead>
<tbody>
${body}
</tbody>
<tfoot><tr><th colspan="3">Total (${escapeHtml(invoice.currency)})</th><th class="n">${escapeHtml(formatMoney(invoice.totalCents, invoice.currency))}</th></tr></tfoot></table>
</body></html>
`;
}

/** The same content as a one-or-more-page PDF (pdfkit: its built-in Helvetica, text wrapped to the columns). */
export function invoicePdf(invoice: Invoice, issuerName: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Invoice ${invoice.number}`, Author: issuerName } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.fontSize(20).text(`Invoice ${invoice.number}`);
  doc.moveDown(0.5).fontSize(10);
  doc.text(issuerName);
  doc.text(`Account ${invoice.accountId}`);
  doc.text(`Period ${day(invoice.periodStart)} to ${day(new Date(invoice.periodEnd.getTime() - 1))}`);
  doc.text(`Issued ${day(invoice.createdAt)}`);
  doc.text(`Status ${invoice.status === 'PAID' ? 'paid' : 'open'}`);
  doc.moveDown();
  const columns = [
    { x: 50, width: 230 },
    { x: 285, width: 130 },
    { x: 420, width: 60 },
    { x: 485, width: 60 },
  ];
  const row = (cells: string[], bold = false) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
    const top = doc.y;
    let bottom = top;
    cells.forEach((cell, i) => {
      doc.text(cell, columns[i]!.x, top, { width: columns[i]!.width, align: i >= 2 ? 'right' : 'left' });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = 50;
    doc.y = bottom + 4;
  };
  row(['Description', 'Quantity', 'Unit price', 'Amount'], true);
  for (const r of rows(invoice)) row([r.description, r.quantity, r.unit, r.amount]);
  row([`Total (${invoice.currency})`, '', '', formatMoney(invoice.totalCents, invoice.currency)], true);
  doc.end();
  return done;
}

interface LinkClaims {
  i: string;
  a: string;
  f: InvoiceFormat;
  e: number;
}

function claimsOf(body: Record<string, unknown> | null): LinkClaims | null {
  if (!body || typeof body.i !== 'string' || !isUuid(body.i) || typeof body.a !== 'string' || typeof body.e !== 'number') return null;
  if (body.f !== 'html' && body.f !== 'pdf') return null;
  return body as unknown as LinkClaims;
}

/** Serves the invoice a link names, to a caller with billing:read on its account. */
export function invoiceDownloadRoute(deps: { orm: Orm; keys: readonly Buffer[]; access: AccessResolver; issuerName: string }): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
    const link = claimsOf(verifyLink(deps.keys, new URL(req.url ?? '/', 'http://billing').searchParams.get('token') ?? ''));
    const notFound = () => sendJson(res, 404, { code: 'NOT_FOUND', message: 'No such download' });
    if (!link) return notFound();
    if (!(await can({ access: new AccessChecker(claims.principal, deps.access) }, 'billing:read', link.a))) return notFound();
    if (link.e * 1000 <= Date.now()) return sendJson(res, 410, { code: 'DOWNLOAD_EXPIRED', message: 'This download link has expired: ask for the invoice again' });
    const invoice = await deps.orm.em.fork().findOne(Invoice, { id: link.i, accountId: link.a });
    if (!invoice) return notFound();
    const pdf = link.f === 'pdf';
    const body = pdf ? await invoicePdf(invoice, deps.issuerName) : Buffer.from(invoiceHtml(invoice, deps.issuerName));
    res.writeHead(200, {
      'content-type': pdf ? 'application/pdf' : 'text/html; charset=utf-8',
      'content-length': String(body.length),
      'content-disposition': `${pdf ? 'attachment' : 'inline'}; filename="${invoice.number}.${link.f}"`,
      'cache-control': 'private, no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
