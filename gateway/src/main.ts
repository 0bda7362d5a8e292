import { z } from 'zod';
import { commonEnv, parseConfig, port, runMain } from '@listbackup/lib/config';
import { createLogger } from '@listbackup/lib/logger';
import { startTracing } from '@listbackup/lib/tracing';
import { onShutdown } from '@listbackup/lib/process';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { GATEWAY_PORT, SUBGRAPHS } from '@listbackup/lib/subgraphs';
import { connectNatsBus } from '@listbackup/lib/events/connect';
import { startGateway } from './index.ts';
import { limitsEnv, limitsFromEnv } from './limits.ts';
import { rateLimitsEnv, rateLimitsFromEnv } from './rate-limits.ts';
import { subscriptionLimitsEnv, subscriptionLimitsFromEnv } from './subscriptions/caps.ts';
import { trustedDocumentsEnv, trustedDocumentsFromEnv } from './trusted-documents.ts';

const subgraphUrl = (fallbackPort: number) => z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${fallbackPort}/graphql`);
const defaultPort = (name: string) => SUBGRAPHS.find((subgraph) => subgraph.name === name)!.port;

const Config = z.object({
  PORT: port(GATEWAY_PORT),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  INTERNAL_TOKEN_SECRET: commonEnv.INTERNAL_TOKEN_SECRET,
  /** Live job status: subscriptions are fed by events from NATS. */
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }),
  EVENTS_NAMESPACE: commonEnv.EVENTS_NAMESPACE,
  /** Optional: /readyz then checks the database too, and the rate limits are counted there (shared by every gateway). */
  DATABASE_URL: commonEnv.DATABASE_URL.optional(),
  TRUST_PROXY: z.stringbool().default(false),
  /** Continue callers' W3C traces (only behind a front end of yours that traces); otherwise a new trace links to theirs. */
  TRUST_TRACEPARENT: z.stringbool().default(false),
  ACCOUNTS_URL: subgraphUrl(defaultPort('accounts')),
  PLATFORMS_URL: subgraphUrl(defaultPort('platforms')),
  SOURCES_URL: subgraphUrl(defaultPort('sources')),
  JOBS_URL: subgraphUrl(defaultPort('jobs')),
  BILLING_URL: subgraphUrl(defaultPort('billing')),
  ...limitsEnv,
  ...rateLimitsEnv,
  ...subscriptionLimitsEnv,
  ...trustedDocumentsEnv,
});

/** A subgraph URL given as just its origin (http://accounts:4001) means its /graphql endpoint. */
function graphqlEndpoint(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/graphql';
  return parsed.toString();
}

await runMain(async () => {
  const config = parseConfig(Config);
  const trustedDocuments = trustedDocumentsFromEnv(config);
  const log = createLogger('gateway', config.LOG_LEVEL);
  const tracing = await startTracing('gateway');
  const bus = await connectNatsBus(config.NATS_URL, config.EVENTS_NAMESPACE, log);
  const gateway = await startGateway({
    port: config.PORT,
    host: config.HOST,
    supergraphSdl: readSupergraph(),
    subgraphUrls: {
      accounts: graphqlEndpoint(config.ACCOUNTS_URL),
      platforms: graphqlEndpoint(config.PLATFORMS_URL),
      sources: graphqlEndpoint(config.SOURCES_URL),
      jobs: graphqlEndpoint(config.JOBS_URL),
      billing: graphqlEndpoint(config.BILLING_URL),
    },
    accountsUrl: config.ACCOUNTS_URL,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    databaseUrl: config.DATABASE_URL,
    trustProxy: config.TRUST_PROXY,
    trustTraceparent: config.TRUST_TRACEPARENT,
    log,
    accessEvents: bus,
    subscriptions: { bus, limits: subscriptionLimitsFromEnv(config) },
    limits: limitsFromEnv(config),
    rateLimits: rateLimitsFromEnv(config),
    trustedDocuments,
  });
  console.error(`gateway ready at ${gateway.url}`);
  onShutdown(async () => tracing?.shutdown(), () => bus.close(), () => gateway.close());
});
