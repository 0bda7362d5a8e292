import { z } from 'zod';
import { commonEnv, parseConfig, port, runMain } from '@listbackup/lib/config';
import { createLogger } from '@listbackup/lib/logger';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { onShutdown } from '@listbackup/lib/process';
import { startSources } from './index.ts';

const Config = z.object({
  ...commonEnv,
  NATS_URL: z.url({ protocol: /^nats$/ }),
  PORT: port(4003),
  HOST: z.string().default('0.0.0.0'),
  ACCOUNTS_URL: z.url({ protocol: /^https?$/ }),
});

await runMain(async () => {
  const config = parseConfig(Config);
  const log = createLogger('sources', config.LOG_LEVEL);
  const bus = await NatsEventBus.connect(config.NATS_URL);
  const service = await startSources({
    databaseUrl: config.DATABASE_URL,
    bus,
    access: new HttpAccessResolver(config.ACCOUNTS_URL, config.INTERNAL_TOKEN_SECRET),
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    log,
    port: config.PORT,
    host: config.HOST,
  });
  onShutdown(() => bus.close(), () => service.close());
});
