/**
 * The identity check of a database connection: log in with the connection string (a short
 * timeout), ask the server who we are, log out. Answers in the shape of the HTTP identity check:
 * `refused` when the server or the address says no (bad login, no such database, nothing listening
 * there: the connection string is wrong), `unavailable` when trying later may help (timeout, server
 * starting or full), and the address failures of every outbound call (`target`): an internal address
 * is never connected to, and one where nothing answers says only that. Nothing here logs, and no
 * failure carries the connection string or pg's text.
 */
import pg from 'pg';
import { findOutboundError, outboundPg } from '@listbackup/lib/outbound';
import type { Failure, Identity, Result } from '../oauth/http.ts';

/** The longest a connection check waits for the server, whatever the HTTP timeout is. */
export const DATABASE_CHECK_TIMEOUT_MS = 10_000;

/** SQLSTATEs and socket errors that mean this connection string will not work as it is. */
const REFUSALS: Record<string, string> = {
  '28P01': 'the login was refused (wrong user or password)',
  '28000': 'the server does not allow this login (pg_hba.conf or the role cannot log in)',
  '3D000': 'the database does not exist',
  '42501': 'the role may not connect to this database',
};

/** Socket errors that say something about the address; they all become TARGET_UNREACHABLE. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT']);

/** Transient server states: the connection string may be right. */
const UNAVAILABLE: Record<string, string> = {
  '57P03': 'the server is not accepting connections yet',
  '53300': 'the server has no free connection slot',
  '57P01': 'the server is shutting down',
  ECONNRESET: 'the server closed the connection',
};

function classify(error: unknown, timeoutMs: number, timedOut: boolean): Failure {
  if (timedOut) return { kind: 'unavailable', reason: `no answer within ${timeoutMs / 1000} s` };
  const refused = findOutboundError(error);
  if (refused) return { kind: 'target', code: refused.code };
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : '';
  if (UNREACHABLE.has(code)) return { kind: 'target', code: 'TARGET_UNREACHABLE' };
  if (REFUSALS[code]) return { kind: 'refused', error: code, description: REFUSALS[code] };
  if (UNAVAILABLE[code]) return { kind: 'unavailable', reason: UNAVAILABLE[code] };
  if (/ssl|tls|certificate/i.test(message)) return { kind: 'refused', error: 'tls', description: 'the TLS settings of the connection string do not match the server' };
  if (/timeout|terminated/i.test(message)) return { kind: 'unavailable', reason: `no answer within ${timeoutMs / 1000} s` };
  if (error instanceof TypeError || /invalid url|connection string/i.test(message)) return { kind: 'refused', error: 'invalid', description: 'the connection string cannot be parsed' };
  return { kind: 'unavailable', reason: code ? `the server answered ${code}` : 'the server could not be reached' };
}

/** Logs in with the connection string and reads `current_user` and `current_database()`. */
export async function checkPostgres(connectionString: string, timeoutMs: number): Promise<Result<{ identity: Identity }>> {
  const limit = Math.min(timeoutMs, DATABASE_CHECK_TIMEOUT_MS);
  let client: pg.Client | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    client = new pg.Client({ ...outboundPg(connectionString), application_name: 'listbackup-check', connectionTimeoutMillis: limit, query_timeout: limit });
    const opened = client;
    opened.on('error', () => {});
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error('timeout'));
      }, limit + 500);
    });
    const row = await Promise.race([
      (async () => {
        await opened.connect();
        const { rows } = await opened.query<{ user: string; database: string }>('select current_user as "user", current_database() as "database"');
        return rows[0];
      })(),
      deadline,
    ]);
    if (!row?.user || !row.database) return { ok: false, failure: { kind: 'unavailable', reason: 'the server did not say who we are' } };
    const where = `${opened.host}:${opened.port}`;
    return { ok: true, identity: { id: `${row.user}@${where}/${row.database}`.slice(0, 255), name: `${row.user}@${row.database}`.slice(0, 200), params: {} } };
  } catch (error) {
    return { ok: false, failure: classify(error, limit, timedOut) };
  } finally {
    clearTimeout(timer);
    // After a timeout the socket may still be opening: close it without waiting for it.
    const closing = client?.end().catch(() => {});
    if (!timedOut) await closing;
  }
}
