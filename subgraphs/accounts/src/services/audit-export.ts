import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessChecker, authorize, can } from '@listbackup/lib/access';
import type { Orm } from '@listbackup/lib/db';
import { actorOf, createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { sendJson } from '@listbackup/lib/http';
import type { InternalClaims } from '@listbackup/lib/internal-token';
import type { Logger } from '@listbackup/lib/logger';
import { verifyLink, signLink } from '@listbackup/lib/signed-links';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER, type InternalRoute } from '@listbackup/lib/subgraph';
import type { AccountsContext } from '../context.ts';
import type { AuditEntry } from '../entities/audit-entry.ts';
import { LocalAccessResolver } from './access.ts';
import { ACTOR_KINDS, auditQuery, entriesInOrder, type AuditLogFilter } from './audit-log.ts';

export const AUDIT_EXPORT_ROUTE = '/internal/audit-log/export';
/** The gateway's public path for it. */
export const PUBLIC_AUDIT_EXPORT_PATH = '/downloads/audit-log';
const LINK_LIFETIME_MS = 15 * 60_000;

export type AuditExportFormat = 'NDJSON' | 'CSV';

interface ExportClaims {
  accountId: string;
  format: AuditExportFormat;
  filter: SerializedFilter;
  exp: number;
}

type SerializedFilter = Omit<AuditLogFilter, 'from' | 'to'> & { from?: string | null; to?: string | null };

/**
 * A link (valid 15 minutes) to the account's log as NDJSON or CSV, filtered like `auditLog`. The
 * link alone is not enough: whoever follows it must hold `audit:read` on the account too.
 */
export async function exportAuditLog(ctx: AccountsContext, accountId: string, format: AuditExportFormat, filter: AuditLogFilter = {}): Promise<{ url: string; expiresAt: Date }> {
  await authorize(ctx, 'audit:read', accountId);
  // Checked now, so a bad filter is an error here and not a broken download later.
  auditQuery(accountId, filter);
  const expiresAt = new Date(Date.now() + LINK_LIFETIME_MS);
  const claims: ExportClaims = {
    accountId,
    format,
    filter: { ...filter, from: filter.from?.toISOString() ?? null, to: filter.to?.toISOString() ?? null },
    exp: Math.floor(expiresAt.getTime() / 1000),
  };
  const path = `${PUBLIC_AUDIT_EXPORT_PATH}?token=${signLink(ctx.auditLinks.key, { ...claims })}`;
  return { url: new URL(path, ctx.auditLinks.publicUrl).toString(), expiresAt };
}

function claimsOf(body: Record<string, unknown> | null): ExportClaims | null {
  if (!body || typeof body.accountId !== 'string' || typeof body.exp !== 'number') return null;
  if (body.format !== 'NDJSON' && body.format !== 'CSV') return null;
  if (!body.filter || typeof body.filter !== 'object') return null;
  return body as unknown as ExportClaims;
}

const COLUMNS = ['sequence', 'occurredAt', 'action', 'actorKind', 'actorId', 'actorIp', 'actorUserAgent', 'targetType', 'targetId', 'before', 'after', 'details', 'previousHash', 'hash'] as const;

/** The entry as one export record: the fields of `AuditEntry` in the graph, and the chain's hashes. */
function record(entry: AuditEntry): Record<(typeof COLUMNS)[number], unknown> {
  return {
    sequence: entry.sequence,
    occurredAt: entry.occurredAt.toISOString(),
    action: entry.action,
    actorKind: entry.actorKind,
    actorId: entry.actorId,
    actorIp: entry.actorIp,
    actorUserAgent: entry.actorUserAgent,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: entry.before,
    after: entry.after,
    details: entry.details,
    previousHash: entry.previousHash,
    hash: entry.hash,
  };
}

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula is prefixed with `'`. */
function csvCell(value: unknown): string {
  let text = value == null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Streams the export a link names, to a caller with `audit:read` on its account; records that it was downloaded. */
export function auditExportRoute(deps: { orm: Orm; keys: readonly Buffer[]; log: Logger }): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
    const link = claimsOf(verifyLink(deps.keys, new URL(req.url ?? '/', 'http://accounts').searchParams.get('token') ?? ''));
    const notFound = () => sendJson(res, 404, { code: 'NOT_FOUND', message: 'No such download' });
    if (!link) return notFound();
    const access = new AccessChecker(claims.principal, new LocalAccessResolver(deps.orm));
    if (!(await can({ access }, 'audit:read', link.accountId))) return notFound();
    if (link.exp * 1000 <= Date.now()) return sendJson(res, 410, { code: 'DOWNLOAD_EXPIRED', message: 'This download link has expired: export the audit log again' });
    const filter: AuditLogFilter = { ...link.filter, from: link.filter.from ? new Date(link.filter.from) : null, to: link.filter.to ? new Date(link.filter.to) : null };
    if (filter.actorKind && !ACTOR_KINDS.includes(filter.actorKind)) return notFound();
    const csv = link.format === 'CSV';
    res.writeHead(200, {
      'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="audit-log-${link.accountId}.${csv ? 'csv' : 'ndjson'}"`,
      'cache-control': 'private, no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    await deps.orm.em.fork().transactional(async (tx) => {
      const actor = actorOf({ principal: claims.principal, clientIp: header(CLIENT_IP_HEADER), userAgent: header(USER_AGENT_HEADER) });
      enqueueEvent(tx, createEvent('audit.exported', link.accountId, link.accountId, { accountId: link.accountId, format: link.format }, { actor }));
    });
    try {
      if (csv) res.write(`${COLUMNS.join(',')}\r\n`);
      for await (const entry of entriesInOrder(deps.orm.em, link.accountId, filter)) {
        const row = record(entry);
        const line = csv ? `${COLUMNS.map((column) => csvCell(row[column])).join(',')}\r\n` : `${JSON.stringify(row)}\n`;
        if (!res.write(line)) await new Promise<void>((resolve) => res.once('drain', resolve));
      }
      res.end();
    } catch (error) {
      deps.log.error({ err: error, accountId: link.accountId, requestId: claims.requestId }, 'audit log export failed midway');
      res.destroy(error as Error);
    }
  };
}
