import pg from 'pg';
import { systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import type { EventBus } from '@listbackup/lib/events/bus';
import { eventsCheck, READINESS_TIMEOUT_MS, type ReadinessCheck } from '@listbackup/lib/readiness';

/**
 * What the gateway's /readyz checks: every subgraph answers its own /readyz with 200, the gateway's
 * database (when it was given one) accepts a query, and its event bus (live subscriptions, access
 * changes; when it has one) is connected.
 */
export function gatewayReadiness(subgraphs: Record<string, ServiceClient>, databaseUrl?: string, bus?: EventBus): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = Object.fromEntries(Object.entries(subgraphs).map(([name, subgraph]) => [name, () => subgraphReady(subgraph)]));
  if (databaseUrl) checks.database = () => databaseReady(databaseUrl);
  if (bus) checks.events = eventsCheck(bus);
  return checks;
}

async function subgraphReady(subgraph: ServiceClient): Promise<void> {
  let status: number;
  try {
    // Not retried: readiness reports what it sees now.
    const response = await subgraph.request({ method: 'GET', path: '/readyz', caller: systemCaller('readiness'), timeoutMs: READINESS_TIMEOUT_MS, idempotent: false });
    status = response.status;
    await response.body.dump();
  } catch (error) {
    const cause = (error as Error).cause;
    throw new Error(`unreachable (${cause instanceof Error ? (cause as NodeJS.ErrnoException).code || cause.message : (error as Error).message})`);
  }
  if (status !== 200) throw new Error(`not ready (HTTP ${status})`);
}

async function databaseReady(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: READINESS_TIMEOUT_MS, query_timeout: READINESS_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`unreachable (${(error as Error).message})`);
  } finally {
    await client.end().catch(() => {});
  }
}
