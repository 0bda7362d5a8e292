import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { AccessChecker, type AccessResolver, can } from '@listbackup/lib/access';
import type { Orm } from '@listbackup/lib/db';
import { sendJson } from '@listbackup/lib/http';
import { signLink, verifyLink } from '@listbackup/lib/signed-links';
import type { InternalClaims } from '@listbackup/lib/internal-token';
import type { Logger } from '@listbackup/lib/logger';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER, type InternalRoute } from '@listbackup/lib/subgraph';
import { actorOf, createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { Job } from '../entities/job.ts';
import type { AccountRepository, Repository } from '@listbackup/engine';

/** The jobs route the gateway's public `GET /downloads?token=…` is proxied to. */
export const DOWNLOAD_PATH = '/internal/downloads';
/** The public path, on the gateway. */
export const PUBLIC_DOWNLOAD_PATH = '/downloads';

const PART_BYTES = 8 * 1024 * 1024;
const exportPrefix = (accountId: string, jobId: string) => `${accountId}/exports/${jobId}/`;
const partKey = (accountId: string, jobId: string, n: number) => `${exportPrefix(accountId, jobId)}part-${String(n).padStart(6, '0')}`;

/** What an export job stored, kept in its result. */
export interface StoredDownload {
  fileName: string;
  contentType: string;
  bytes: number;
  parts: number;
  sha256: string;
  items: number;
  expiresAt: string;
}

/**
 * Writes an archive stream into the store as sealed parts (AES-256-GCM under the account's key,
 * like everything else the engine stores), so an export is never kept in plaintext at rest.
 * Memory holds one part at a time.
 */
export async function storeDownload(account: AccountRepository, jobId: string, stream: Readable, signal: AbortSignal): Promise<{ bytes: number; parts: number; sha256: string }> {
  await deleteDownload(account, jobId);
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let parts = 0;
  let bytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const body = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    parts++;
    const key = partKey(account.accountId, jobId, parts);
    await account.store.put(key, account.keys.sealObject('export', key, body));
  };
  for await (const piece of stream as AsyncIterable<Buffer>) {
    signal.throwIfAborted();
    hash.update(piece);
    bytes += piece.length;
    pending.push(piece);
    pendingBytes += piece.length;
    if (pendingBytes >= PART_BYTES) await flush();
  }
  await flush();
  await account.store.flush?.();
  return { bytes, parts, sha256: hash.digest('hex') };
}

export async function deleteDownload(account: AccountRepository, jobId: string): Promise<void> {
  for await (const object of account.store.list(exportPrefix(account.accountId, jobId))) await account.store.delete(object.key);
}

/** Exports whose download expired before `now`: removed by the account's maintenance. */
export async function deleteExpiredDownloads(account: AccountRepository, orm: Orm, now = new Date()): Promise<number> {
  const jobIds = new Set<string>();
  for await (const object of account.store.list(`${account.accountId}/exports/`)) jobIds.add(object.key.split('/')[2]);
  let deleted = 0;
  for (const jobId of jobIds) {
    const job = await orm.em.fork().findOne(Job, { id: jobId, accountId: account.accountId });
    const download = job?.result?.download as StoredDownload | undefined;
    if (job && job.status !== 'SUCCEEDED' && job.status !== 'FAILED' && job.status !== 'CANCELLED') continue;
    if (download && new Date(download.expiresAt) > now) continue;
    await deleteDownload(account, jobId);
    deleted++;
  }
  return deleted;
}

async function* readDownload(account: AccountRepository, jobId: string, parts: number): AsyncGenerator<Buffer> {
  for (let n = 1; n <= parts; n++) {
    const key = partKey(account.accountId, jobId, n);
    yield account.keys.openObject('export', key, await account.store.getBytes(key)).plaintext;
  }
}

export interface DownloadClaims {
  jobId: string;
  accountId: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** A signed link (`@listbackup/lib/signed-links`) that names one export of one account until `exp`. */
export function signDownloadToken(key: Buffer, claims: DownloadClaims): string {
  return signLink(key, { j: claims.jobId, a: claims.accountId, e: claims.exp });
}

/** The claims of a token signed with one of `keys` (expired or not), or null. */
export function verifyDownloadToken(keys: readonly Buffer[], token: string): DownloadClaims | null {
  const body = verifyLink(keys, token);
  if (!body || typeof body.j !== 'string' || typeof body.a !== 'string' || typeof body.e !== 'number') return null;
  return { jobId: body.j, accountId: body.a, exp: body.e };
}

/** The link a job's `download` field shows. */
export function downloadLink(key: Buffer, publicUrl: string, job: { id: string; accountId: string }, download: StoredDownload): { url: string; path: string } {
  const token = signDownloadToken(key, { jobId: job.id, accountId: job.accountId, exp: Math.floor(new Date(download.expiresAt).getTime() / 1000) });
  const path = `${PUBLIC_DOWNLOAD_PATH}?token=${token}`;
  return { path, url: new URL(path, publicUrl).toString() };
}

/** `data.exported` for the audit log: who downloaded which export, from where. */
async function recordExported(orm: Orm, req: IncomingMessage, claims: InternalClaims, job: Job, download: StoredDownload): Promise<void> {
  const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : null);
  const actor = actorOf({ principal: claims.principal, clientIp: header(CLIENT_IP_HEADER), userAgent: header(USER_AGENT_HEADER) });
  const params = job.params as { snapshotId?: string; format?: string };
  const em = orm.em.fork();
  enqueueEvent(
    em,
    createEvent('data.exported', job.accountId, job.id, { accountId: job.accountId, sourceId: job.sourceId!, jobId: job.id, snapshotId: params.snapshotId ?? null, format: params.format ?? download.contentType, bytes: download.bytes }, { actor }),
  );
  await em.flush();
}

/**
 * Serves an export. The link alone is not enough: the caller (whose identity the gateway forwards)
 * must be able to read the account's jobs, so a link of account A is "not found" for anyone else.
 * A bad or foreign link is 404; an expired one 410.
 */
export function downloadRoute(deps: { orm: Orm; repository: Repository; keys: readonly Buffer[]; access: AccessResolver; log: Logger }): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
    const token = new URL(req.url ?? '/', 'http://jobs').searchParams.get('token') ?? '';
    const link = verifyDownloadToken(deps.keys, token);
    const notFound = () => sendJson(res, 404, { code: 'NOT_FOUND', message: 'No such download' });
    if (!link) return notFound();
    if (!(await can({ access: new AccessChecker(claims.principal, deps.access) }, 'jobs:read', link.accountId))) return notFound();
    if (link.exp * 1000 <= Date.now()) return sendJson(res, 410, { code: 'DOWNLOAD_EXPIRED', message: 'This download link has expired: export the snapshot again' });
    const job = await deps.orm.em.fork().findOne(Job, { id: link.jobId, accountId: link.accountId });
    const download = job?.status === 'SUCCEEDED' ? (job.result?.download as StoredDownload | undefined) : undefined;
    if (!job || !download) return notFound();
    const account = await deps.repository.account(link.accountId);
    res.writeHead(200, {
      'content-type': download.contentType,
      'content-length': String(download.bytes),
      'content-disposition': `attachment; filename="${download.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'cache-control': 'private, no-store',
      'x-content-sha256': download.sha256,
    });
    if (req.method === 'HEAD') return void res.end();
    try {
      for await (const part of readDownload(account, job.id, download.parts)) {
        if (!res.write(part)) await new Promise<void>((resolve) => res.once('drain', resolve));
      }
      res.end();
      await recordExported(deps.orm, req, claims, job, download).catch((error: unknown) => deps.log.error({ err: error, jobId: job.id }, 'recording the download in the audit log failed'));
    } catch (error) {
      deps.log.error({ err: error, jobId: job.id, requestId: claims.requestId }, 'download failed midway');
      res.destroy(error as Error);
    }
  };
}
