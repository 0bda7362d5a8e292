import pg from 'pg';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

const CHECK_TIMEOUT_MS = 3_000;

/**
 * Ready means every subgraph answers its own /readyz (which checks its database) with 200, and
 * the gateway's database, when it was given one, accepts a query.
 */
export async function checkReadiness(subgraphUrls: Record<string, string>, databaseUrl?: string): Promise<ReadinessReport> {
  const checks: [string, Promise<void>][] = Object.entries(subgraphUrls).map(([name, url]) => [name, subgraphReady(url)]);
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

async function subgraphReady(graphqlUrl: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL('/readyz', graphqlUrl), { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`unreachable (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`);
  }
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`not ready (HTTP ${response.status})`);
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
