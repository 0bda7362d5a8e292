import { openDatabase } from '@listbackup/lib/db';
import { consumeAccountPlans } from '@listbackup/lib/events/account-plans';
import type { EventSubscription } from '@listbackup/lib/events/bus';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import { eventsCheck } from '@listbackup/lib/readiness';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import type { Keyring } from '@listbackup/lib/vault';
import type { PlatformsOptions } from './config.ts';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { contextExtender } from './context.ts';
import { createPlatformsRuntime, type PlatformsRuntime } from './runtime.ts';
import { OAUTH_CALLBACK_PATH, oauthCallbackRoute } from './routes/oauth-callback.ts';
import { CREDENTIALS_PATH, CREDENTIALS_REFUSED_PATH, credentialsRefusedRoute, credentialsRoute } from './routes/credentials.ts';
import { WEBHOOKS_PATH, webhooksRoute } from './routes/webhooks.ts';
import { syncPlatformCatalogue } from './services/platform-service.ts';
import { announceExpiringConnections } from './services/connection-expiry.ts';
import { consumeAccountPurges } from './events/account-purge.ts';
import { getAccessToken, type AccessToken, type AccessTokenOptions } from './services/token-service.ts';

export type { PlatformsOptions } from './config.ts';
export { platformsOptionsFromEnv } from './config.ts';
export type { AccessToken, AccessTokenOptions } from './services/token-service.ts';
export { AccessTokenError } from './services/token-service.ts';

export interface RunningPlatforms extends RunningService {
  runtime: PlatformsRuntime;
  /** For workers: a valid access token (or API key) of a connection of `accountId`, refreshed if needed. */
  getAccessToken(accountId: string, connectionId: string, options?: AccessTokenOptions): Promise<AccessToken>;
  keyring: Keyring;
}

export async function startPlatforms(runtime: ServiceRuntime, options: PlatformsOptions = {}): Promise<RunningPlatforms> {
  const log = runtime.log.child({ service: 'platforms' });
  const platforms = createPlatformsRuntime(options, { internalTokenSecret: runtime.internalTokenSecret, log, access: runtime.access });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  try {
    await syncPlatformCatalogue(orm.em.fork());
  } catch (error) {
    await orm.close();
    throw error;
  }
  const relay = new OutboxRelay({ orm, bus: runtime.bus, logger: log, intervalMs: options.outboxIntervalMs });
  relay.start();
  const expiry = setInterval(() => {
    announceExpiringConnections(orm, new Date(platforms.now()))
      .then((announced) => announced > 0 && log.info({ announced }, 'connections expiring soon announced'))
      .catch((error: unknown) => log.error({ err: error }, 'looking for expiring connections failed'));
  }, options.expiryCheckIntervalMs ?? 60 * 60_000);
  expiry.unref();
  let subgraph: Awaited<ReturnType<typeof startSubgraph>>;
  let plans: EventSubscription | undefined;
  let purges: EventSubscription | undefined;
  try {
    plans = await consumeAccountPlans(orm, runtime.bus, log, 'platforms', runtime.durablePrefix);
    purges = await consumeAccountPurges(orm, platforms, runtime.bus, log, runtime.durablePrefix);
    subgraph = await startSubgraph(
      {
        name: 'platforms',
        typeDefs: subgraphSdl('platforms'),
        resolvers,
        orm,
        access: runtime.access,
        internalTokenSecret: runtime.internalTokenSecret,
        log,
        readiness: { events: eventsCheck(runtime.bus) },
        extendContext: contextExtender(platforms),
        internalRoutes: {
          [OAUTH_CALLBACK_PATH]: oauthCallbackRoute(platforms, orm),
          [CREDENTIALS_PATH]: credentialsRoute(platforms, orm),
          [CREDENTIALS_REFUSED_PATH]: credentialsRefusedRoute(platforms, orm),
          [WEBHOOKS_PATH]: webhooksRoute(platforms, orm),
        },
      },
      runtime.port,
      runtime.host,
    );
  } catch (error) {
    clearInterval(expiry);
    await purges?.unsubscribe();
    await plans?.unsubscribe();
    await relay.stop();
    await orm.close();
    throw error;
  }
  return {
    name: 'platforms',
    url: subgraph.url,
    orm,
    runtime: platforms,
    keyring: platforms.vault.keyring,
    getAccessToken: (accountId, connectionId, tokenOptions) => getAccessToken(platforms, orm, { accountId, connectionId }, tokenOptions),
    async close() {
      clearInterval(expiry);
      await purges?.unsubscribe();
      await plans?.unsubscribe();
      await subgraph.close();
      await relay.stop();
      await orm.close();
    },
  };
}
