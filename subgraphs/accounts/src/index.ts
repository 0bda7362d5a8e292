import { openDatabase } from '@listbackup/lib/db';
import { eventsCheck } from '@listbackup/lib/readiness';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import type { EventSubscription } from '@listbackup/lib/events/bus';
import { linkKeys } from '@listbackup/lib/signed-links';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { contextExtender } from './context.ts';
import { LocalAccessResolver, accessInternalRoutes } from './services/access.ts';
import { identityInternalRoutes } from './services/auth-service.ts';
import { consumeAuditEvents } from './events/audit-consumer.ts';
import { consumeBillingEvents } from './events/billing-consumer.ts';
import { consumeAccountPlans } from '@listbackup/lib/events/account-plans';
import { purgeDeletedAccounts } from './services/account-lifecycle.ts';
import { AUDIT_EXPORT_ROUTE, auditExportRoute } from './services/audit-export.ts';
import { pruneAuditLog } from './services/audit-log.ts';
import { VERIFY_EMAIL_ROUTE, verifyEmailRoute } from './services/user-lifecycle.ts';
import { outboundFetch } from '@listbackup/lib/outbound';
import type { Fetch } from './delivery/senders.ts';

export interface AccountsOptions {
  /** The public origin links in emails and downloads point at (the gateway). */
  publicUrl?: string;
  /** How often the audit log's retention, and the purge of accounts past their recovery window, run (default hourly). */
  auditRetentionIntervalMs?: number;
  /** How notification endpoints are called (tests pass a fetch that may reach their receivers). */
  notificationFetch?: Fetch;
  /** Refuse http:// endpoints (default: when NODE_ENV=production). */
  requireHttps?: boolean;
}

const HOUR_MS = 60 * 60_000;

/** Accounts answers access questions itself, so unlike the other subgraphs it takes no resolver. */
export async function startAccounts(runtime: Omit<ServiceRuntime, 'access'>, options: AccountsOptions = {}): Promise<RunningService> {
  const log = runtime.log.child({ service: 'accounts' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const relay = new OutboxRelay({ orm, bus: runtime.bus, logger: log });
  relay.start();
  const auditLinkKeys = linkKeys(runtime.internalTokenSecret, 'audit-export');
  let audit: EventSubscription | undefined;
  let billing: EventSubscription | undefined;
  let plans: EventSubscription | undefined;
  const retention = setInterval(() => {
    pruneAuditLog(orm).catch((error: unknown) => log.error({ err: error }, 'audit log retention failed'));
    purgeDeletedAccounts(orm)
      .then((purged) => purged.length > 0 && log.info({ accounts: purged }, 'accounts purged after their recovery window'))
      .catch((error: unknown) => log.error({ err: error }, 'account purge failed'));
  }, options.auditRetentionIntervalMs ?? HOUR_MS);
  retention.unref();
  try {
    audit = await consumeAuditEvents(orm, runtime.bus, log, runtime.durablePrefix);
    billing = await consumeBillingEvents(orm, runtime.bus, log, runtime.durablePrefix);
    plans = await consumeAccountPlans(orm, runtime.bus, log, 'accounts', runtime.durablePrefix);
    const subgraph = await startSubgraph(
      {
        name: 'accounts',
        typeDefs: subgraphSdl('accounts'),
        resolvers,
        orm,
        access: new LocalAccessResolver(orm),
        internalTokenSecret: runtime.internalTokenSecret,
        log,
        readiness: { events: eventsCheck(runtime.bus) },
        extendContext: contextExtender({
          auditLinks: { key: auditLinkKeys[0], publicUrl: options.publicUrl ?? process.env.PUBLIC_URL ?? 'http://localhost:4000' },
          notifications: { fetch: options.notificationFetch ?? outboundFetch, requireHttps: options.requireHttps ?? process.env.NODE_ENV === 'production' },
        }),
        internalRoutes: {
          ...accessInternalRoutes(orm),
          ...identityInternalRoutes(orm),
          [AUDIT_EXPORT_ROUTE]: auditExportRoute({ orm, keys: auditLinkKeys, log }),
          [VERIFY_EMAIL_ROUTE]: verifyEmailRoute(orm),
        },
      },
      runtime.port,
      runtime.host,
    );
    return {
      name: 'accounts',
      url: subgraph.url,
      orm,
      async close() {
        clearInterval(retention);
        await subgraph.close();
        await audit?.unsubscribe();
        await billing?.unsubscribe();
        await plans?.unsubscribe();
        await relay.stop();
        await orm.close();
      },
    };
  } catch (error) {
    clearInterval(retention);
    await audit?.unsubscribe();
    await billing?.unsubscribe();
    await plans?.unsubscribe();
    await relay.stop();
    await orm.close();
    throw error;
  }
}
