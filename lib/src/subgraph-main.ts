import { z } from 'zod';
import { commonEnv, parseConfig, port, runMain } from './config.ts';
import { createLogger } from './logger.ts';
import { startTracing } from './tracing.ts';
import { HttpAccessResolver } from './access.ts';
import { connectNatsBus } from './events/connect.ts';
import { onShutdown } from './process.ts';
import type { RunningService, ServiceRuntime } from './service.ts';

/**
 * The entry point of a subgraph running as its own process (one container per service):
 * configuration from the environment, events through NATS, roles from the accounts subgraph.
 */
export function runSubgraphProcess(name: string, defaultPort: number, start: (runtime: ServiceRuntime) => Promise<RunningService>): Promise<void> {
  const Config = z.object({
    ...commonEnv,
    NATS_URL: z.url({ protocol: /^(nats|tls)$/ }),
    PORT: port(defaultPort),
    HOST: z.string().default('0.0.0.0'),
    ACCOUNTS_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4001/graphql'),
  });
  return runMain(async () => {
    const config = parseConfig(Config);
    const log = createLogger(name, config.LOG_LEVEL);
    const tracing = await startTracing(name);
    const bus = await connectNatsBus(config.NATS_URL, config.EVENTS_NAMESPACE, log);
    const service = await start({
      databaseUrl: config.DATABASE_URL,
      bus,
      access: new HttpAccessResolver(config.ACCOUNTS_URL, config.INTERNAL_TOKEN_SECRET),
      internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
      log,
      port: config.PORT,
      host: config.HOST,
      durablePrefix: config.EVENTS_NAMESPACE,
    });
    onShutdown(async () => tracing?.shutdown(), () => bus.close(), () => service.close());
  });
}
