import pg from 'pg';
import { systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

const CHECK_TIMEOUT_MS = 3_000;

/**
 * Ready means every subgraph answers its own /readyz (which checks its database) with 200, and
 * the gateway's database, when it was given one, accepts a query.
 */
export async function checkReadiness(subgraphs: Record<string, ServiceClient>, databaseUrl?: string): Promise<ReadinessReport> {
  const checks: [string, Promise<void>][] = Object.entries(subgraphs).map(([name, subgraph]) => [name, subgraphReady(subgraph)]);
  if (databaseUrl) checks.push(['database', databaseReady(databaseUrl)]);
  const results = await Promise.allSettled(checks.map(([, check]) => check));
  const report: ReadinessReport = { ready: true, checks: {} };
  results.forEach((result, index) => {
    const name = checks[index][0];
    if (result.status === 'fulfilled') {
      report.checks[name] = 'ok';
    } else {
      report.ready = false;
      report.checks[name] = (result.reason as Error).message;
    }
  });
  return report;
}

async function subgraphReady(subgraph: ServiceClient): Promise<void> {
  let status: number;
  try {
    // Not retried: readiness reports what it sees now.
    const response = await subgraph.request({ method: 'GET', path: '/readyz', caller: systemCaller('readiness'), timeoutMs: CHECK_TIMEOUT_MS, idempotent: false });
    status = response.status;
    await response.body.dump();
  } catch (error) {
    const cause = (error as Error).cause;
    throw new Error(`unreachable (${cause instanceof Error ? (cause as NodeJS.ErrnoException).code || cause.message : (error as Error).message})`);
  }
  if (status !== 200) throw new Error(`not ready (HTTP ${status})`);
}

async function databaseReady(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CHECK_TIMEOUT_MS, query_timeout: CHECK_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`unreachable (${(error as Error).message})`);
  } finally {
    await client.end().catch(() => {});
  }
}
