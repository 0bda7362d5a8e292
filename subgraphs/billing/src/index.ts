import { openDatabase } from '@listbackup/lib/db';
import { ConfigError } from '@listbackup/lib/config';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import { linkKeys } from '@listbackup/lib/signed-links';
import { eventsCheck } from '@listbackup/lib/readiness';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import type { EventSubscription } from '@listbackup/lib/events/bus';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { contextExtender } from './context.ts';
import { syncPlanCatalogue } from './services/plan-service.ts';
import { consumeAccountCreated } from './events/account-created.ts';
import { consumeMeteringEvents } from './events/metering-consumer.ts';
import { consumeUsageEvents } from './events/plan-usage-consumer.ts';
import { type EngineUsageReader, JobsStorageClient, StorageReconciler } from './services/reconciliation.ts';
import { BillingCycle } from './services/billing-cycle.ts';
import { DEFAULT_DUNNING, runDunning, type DunningPolicy } from './services/dunning.ts';
import { INVOICE_DOWNLOAD_ROUTE, invoiceDownloadRoute } from './services/invoice-documents.ts';
import { finalizeLastMonth } from './services/invoicing.ts';
import { StripePayments, type StripeSettings } from './services/payments.ts';
import { STRIPE_WEBHOOK_ROUTE, stripeWebhookRoute } from './services/stripe-webhooks.ts';

export interface BillingOptions {
  /** The jobs subgraph's URL: the daily reconciliation reads the backup store's figures there. */
  jobsUrl: string;
  /** Reads the engine's figures; by default through the jobs subgraph's internal route. */
  engine?: EngineUsageReader;
  /** The reconciliation's pass (default hourly; each account is reconciled once a day); false turns it off. */
  reconciliation?: { intervalMs?: number } | false;
  /** Stripe; absent: payments are off, invoices are still finalized (and stay open). */
  stripe?: StripeSettings;
  /** The public origin invoice links point at (the gateway). */
  publicUrl?: string;
  /** The invoice number prefix (`LB` gives LB-2026-000123) and the name printed on invoices. */
  issuer?: { code: string; name: string };
  /** The pg-boss schedules that finalize invoices and collect payments (default on); tests run the tasks themselves. */
  schedules?: boolean;
  dunning?: DunningPolicy;
}

export interface BillingService extends RunningService {
  reconciler: StorageReconciler;
  /** Last month's invoices as of `now` (what the monthly schedule runs). */
  finalizeInvoices(now?: Date): Promise<number>;
  /** One collection pass as of `now` (what the half-hourly schedule runs); null when payments are off. */
  collectPayments: ((now?: Date) => ReturnType<typeof runDunning>) | null;
}

/**
 * Defaults for a subgraph started from the environment: JOBS_URL, BILLING_RECONCILIATION=off,
 * STRIPE_SECRET_KEY with STRIPE_WEBHOOK_SECRET (and STRIPE_API_URL for another API origin),
 * PUBLIC_URL, INVOICE_ISSUER and INVOICE_ISSUER_NAME.
 */
export function billingOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BillingOptions {
  const secretKey = env.STRIPE_SECRET_KEY || undefined;
  if (secretKey && !env.STRIPE_WEBHOOK_SECRET) throw new ConfigError('Invalid configuration:\n  - STRIPE_WEBHOOK_SECRET: required with STRIPE_SECRET_KEY (the signing secret of the webhook endpoint)');
  const issuer = env.INVOICE_ISSUER || 'LB';
  if (!/^[A-Z0-9]{1,8}$/.test(issuer)) throw new ConfigError('Invalid configuration:\n  - INVOICE_ISSUER: 1 to 8 capital letters or digits');
  return {
    jobsUrl: env.JOBS_URL ?? 'http://127.0.0.1:4004',
    reconciliation: env.BILLING_RECONCILIATION === 'off' ? false : {},
    stripe: secretKey ? { secretKey, webhookSecret: env.STRIPE_WEBHOOK_SECRET!, apiUrl: env.STRIPE_API_URL || undefined } : undefined,
    publicUrl: env.PUBLIC_URL || undefined,
    issuer: { code: issuer, name: env.INVOICE_ISSUER_NAME || 'ListBackup' },
  };
}

export async function startBilling(runtime: ServiceRuntime, options: BillingOptions = billingOptionsFromEnv()): Promise<BillingService> {
  const log = runtime.log.child({ service: 'billing' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const relay = new OutboxRelay({ orm, bus: runtime.bus, logger: log });
  relay.start();
  const subscriptions: EventSubscription[] = [];
  const reconciler = new StorageReconciler({
    orm,
    engine: options.engine ?? new JobsStorageClient(options.jobsUrl, runtime.internalTokenSecret),
    log,
    intervalMs: options.reconciliation ? options.reconciliation.intervalMs : undefined,
  });
  const payments = options.stripe ? new StripePayments(options.stripe) : null;
  const issuer = options.issuer ?? { code: 'LB', name: 'ListBackup' };
  const policy = options.dunning ?? DEFAULT_DUNNING;
  const finalizeInvoices = (now = new Date()) => finalizeLastMonth(orm, log, now, { issuer: issuer.code, collect: payments !== null });
  const collectPayments = payments ? (now = new Date()) => runDunning(orm, payments, log, now, policy) : null;
  const invoiceKeys = linkKeys(runtime.internalTokenSecret, 'invoice-download');
  let cycle: BillingCycle | undefined;
  const stopAll = async () => {
    await cycle?.stop();
    await reconciler.stop();
    for (const subscription of subscriptions) await subscription.unsubscribe();
    await relay.stop();
    await orm.close();
  };
  try {
    await syncPlanCatalogue(orm.em.fork());
    // After the catalogue: the handler needs the Free plan.
    subscriptions.push(await consumeAccountCreated(orm, runtime.bus, log, runtime.durablePrefix));
    subscriptions.push(...(await consumeMeteringEvents(orm, runtime.bus, log, runtime.durablePrefix)));
    subscriptions.push(...(await consumeUsageEvents(orm, runtime.bus, log, runtime.durablePrefix)));
    if (options.schedules !== false) cycle = await BillingCycle.start(runtime.databaseUrl, log, { finalize: finalizeInvoices, collect: collectPayments ?? undefined });
    if (!payments) log.info('payments are off (no STRIPE_SECRET_KEY): invoices are finalized, not charged');
    const subgraph = await startSubgraph(
      {
        name: 'billing',
        typeDefs: subgraphSdl('billing'),
        resolvers,
        orm,
        access: runtime.access,
        internalTokenSecret: runtime.internalTokenSecret,
        log,
        readiness: { events: eventsCheck(runtime.bus) },
        extendContext: contextExtender({
          invoiceLinks: { key: invoiceKeys[0]!, publicUrl: options.publicUrl ?? process.env.PUBLIC_URL ?? 'http://localhost:4000', issuerName: issuer.name },
          payments,
        }),
        internalRoutes: {
          [INVOICE_DOWNLOAD_ROUTE]: invoiceDownloadRoute({ orm, keys: invoiceKeys, access: runtime.access, issuerName: issuer.name }),
          [STRIPE_WEBHOOK_ROUTE]: stripeWebhookRoute({ orm, payments, log, policy }),
        },
      },
      runtime.port,
      runtime.host,
    );
    if (options.reconciliation !== false) reconciler.start();
    return {
      name: 'billing',
      url: subgraph.url,
      orm,
      reconciler,
      finalizeInvoices,
      collectPayments,
      async close() {
        await subgraph.close();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
