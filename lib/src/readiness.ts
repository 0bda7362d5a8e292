import type { ServerResponse } from 'node:http';
import type { Orm } from './db.ts';
import type { EventBus } from './events/bus.ts';
import { sendJson } from './http.ts';

/** One thing a process needs to do its work (its database, NATS, the queue, the object store): resolves when it can, else throws why not. */
export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  /** Each check's `ok`, or why it failed. */
  checks: Record<string, string>;
}

/** A check that has not answered in this long has failed: readiness reports what it sees now, within a probe's 3 s timeout. */
export const READINESS_TIMEOUT_MS = 2_000;

/** Runs every check at once, each bounded by `timeoutMs`. */
export async function runReadiness(checks: Record<string, ReadinessCheck>, timeoutMs = READINESS_TIMEOUT_MS): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!(), timeoutMs)));
  const report: ReadinessReport = { ready: true, checks: {} };
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') {
      report.checks[names[index]!] = 'ok';
    } else {
      report.ready = false;
      report.checks[names[index]!] = result.reason instanceof Error ? result.reason.message : String(result.reason);
    }
  });
  return report;
}

/** The `/readyz` answer: 200 `ready` or 503 `unavailable`, every check with its result, and the failed ones named. */
export function sendReadiness(res: ServerResponse, report: ReadinessReport, fields: Record<string, unknown> = {}): void {
  const failed = Object.entries(report.checks).filter(([, status]) => status !== 'ok').map(([name]) => name);
  sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'unavailable', ...fields, checks: report.checks, ...(failed.length ? { failed } : {}) });
}

/** The service's database accepts a query. */
export function databaseCheck(orm: Orm): ReadinessCheck {
  return async () => {
    const result = await orm.checkConnection();
    if (!result.ok) throw new Error(`unreachable (${result.reason})`);
  };
}

/** The event bus can store and deliver events (for NATS: connected, and JetStream has the stream). */
export function eventsCheck(bus: EventBus): ReadinessCheck {
  return () => bus.ready();
}

async function withTimeout(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
