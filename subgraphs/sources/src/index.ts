import { openDatabase } from '@listbackup/lib/db';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import { eventsCheck } from '@listbackup/lib/readiness';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { contextExtender } from './context.ts';
import { PlatformsClient } from '@listbackup/lib/platforms-client';
import { JobsClient, JobsItemsReader } from './clients/jobs-client.ts';
import { sourcesInternalRoutes } from './internal-routes.ts';
import { SourceScheduler } from './scheduler.ts';
import { consumeAccountEvents } from './events/account-holds.ts';
import { consumeWebhookEvents } from './events/webhook-backups.ts';
import { ConfigError } from '@listbackup/lib/config';
import { consumeAccountPlans } from '@listbackup/lib/events/account-plans';
import type { EventSubscription } from '@listbackup/lib/events/bus';
import type { ItemsReader } from './services/items-reader.ts';

export interface SourcesOptions {
  /** The platforms subgraph's /graphql URL (connections are checked there). */
  platformsUrl: string;
  /** The jobs subgraph's URL (the scheduler queues backups there). */
  jobsUrl: string;
  /** Reads snapshot items; by default the jobs subgraph reads them from the backup store. */
  items?: ItemsReader;
  /** Run the scheduler in this process (default every 15 s); false turns it off. */
  scheduler?: { intervalMs?: number } | false;
  /** How long a backup a platform webhook asks for waits, joined by every webhook of its source meanwhile (default 60 s; docs/webhooks.md). */
  webhookCoalesceMs?: number;
}

export interface SourcesService extends RunningService {
  scheduler: SourceScheduler | null;
}

/** Defaults for a subgraph started from the environment: PLATFORMS_URL, JOBS_URL, SOURCES_SCHEDULER=off, WEBHOOK_COALESCE_SECONDS. */
export function sourcesOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SourcesOptions {
  return {
    platformsUrl: env.PLATFORMS_URL ?? 'http://127.0.0.1:4002/graphql',
    jobsUrl: env.JOBS_URL ?? 'http://127.0.0.1:4004/graphql',
    scheduler: env.SOURCES_SCHEDULER === 'off' ? false : {},
    webhookCoalesceMs: webhookCoalesceMs(env.WEBHOOK_COALESCE_SECONDS),
  };
}

function webhookCoalesceMs(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) throw new ConfigError(`Invalid configuration:\n  - WEBHOOK_COALESCE_SECONDS: a whole number of seconds from 0 to 3600, not ${JSON.stringify(value)}`);
  return seconds * 1000;
}

export async function startSources(runtime: ServiceRuntime, options: SourcesOptions = sourcesOptionsFromEnv()): Promise<SourcesService> {
  const log = runtime.log.child({ service: 'sources' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const relay = new OutboxRelay({ orm, bus: runtime.bus, logger: log });
  relay.start();
  const jobs = new JobsClient(options.jobsUrl, runtime.internalTokenSecret);
  const scheduler = options.scheduler === false ? null : new SourceScheduler({ orm, jobs, log, intervalMs: options.scheduler?.intervalMs });
  const subscriptions: EventSubscription[] = [];
  try {
    subscriptions.push(await consumeAccountEvents(orm, runtime.bus, log, runtime.durablePrefix));
    subscriptions.push(await consumeAccountPlans(orm, runtime.bus, log, 'sources', runtime.durablePrefix));
    subscriptions.push(await consumeWebhookEvents({ orm, bus: runtime.bus, jobs, log, coalesceMs: options.webhookCoalesceMs, durablePrefix: runtime.durablePrefix }));
    const subgraph = await startSubgraph(
      {
        name: 'sources',
        typeDefs: subgraphSdl('sources'),
        resolvers,
        orm,
        access: runtime.access,
        internalTokenSecret: runtime.internalTokenSecret,
        log,
        readiness: { events: eventsCheck(runtime.bus) },
        extendContext: contextExtender({
          platforms: new PlatformsClient(options.platformsUrl, runtime.internalTokenSecret),
          items: options.items ?? new JobsItemsReader(options.jobsUrl, runtime.internalTokenSecret),
        }),
        internalRoutes: sourcesInternalRoutes(orm),
      },
      runtime.port,
      runtime.host,
    );
    scheduler?.start();
    return {
      name: 'sources',
      url: subgraph.url,
      orm,
      scheduler,
      async close() {
        await scheduler?.stop();
        for (const subscription of subscriptions) await subscription.unsubscribe();
        await subgraph.close();
        await relay.stop();
        await orm.close();
      },
    };
  } catch (error) {
    for (const subscription of subscriptions) await subscription.unsubscribe();
    await relay.stop();
    await orm.close();
    throw error;
  }
}
