import { z } from 'zod';
import { commonEnv, parseConfig, port, runMain } from '@listbackup/lib/config';
import { createLogger } from '@listbackup/lib/logger';
import { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { onShutdown } from '@listbackup/lib/process';
import { startAccounts } from './index.ts';

const Config = z.object({ ...commonEnv, NATS_URL: z.url({ protocol: /^nats$/ }), PORT: port(4001), HOST: z.string().default('0.0.0.0') });

await runMain(async () => {
  const config = parseConfig(Config);
  const log = createLogger('accounts', config.LOG_LEVEL);
  const bus = await NatsEventBus.connect(config.NATS_URL, { namespace: config.EVENTS_NAMESPACE, logger: log });
  const service = await startAccounts({
    databaseUrl: config.DATABASE_URL,
    bus,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    log,
    port: config.PORT,
    host: config.HOST,
  });
  onShutdown(() => bus.close(), () => service.close());
});
