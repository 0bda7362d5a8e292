/**
 * Stripe: customers, charges, invoices, subscriptions (every status) and products, through list
 * objects paged with `starting_after` and `limit=100`, authenticated with the secret key as a
 * Bearer token. Incremental runs ask for objects `created[gte]` the previous high-water mark, and
 * for objects changed since then through the Events API (`type=<object>.*`), which Stripe keeps
 * for 30 days; an older cursor makes a full run.
 */
import { z } from 'zod';
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  eachItem,
  type FetchContext,
  HighWaterMark,
  type HighWaterState,
  jsonContent,
  paginateCursor,
  type ResponseInfo,
  type Verdict,
} from '../sdk/index.ts';

export const STRIPE_API_URL = 'https://api.stripe.com/v1';

const EVENTS_RETENTION_SECONDS = 29 * 24 * 3600;

interface ListSpec {
  description: string;
  object: string;
  eventType: string;
  query?: Record<string, string>;
  metadata: (o: StripeObject) => Record<string, unknown>;
}

const LISTS: Record<string, ListSpec> = {
  customers: { description: 'Customers with their metadata and default payment method.', object: 'customer', eventType: 'customer', metadata: (o) => ({ email: o.email ?? null, name: o.name ?? null }) },
  charges: { description: 'Charges, including failed ones.', object: 'charge', eventType: 'charge', metadata: (o) => ({ amount: o.amount, currency: o.currency, status: o.status }) },
  invoices: { description: 'Invoices and their line items.', object: 'invoice', eventType: 'invoice', metadata: (o) => ({ number: o.number ?? null, status: o.status, total: o.total, currency: o.currency }) },
  subscriptions: { description: 'Subscriptions in every status.', object: 'subscription', eventType: 'customer.subscription', query: { status: 'all' }, metadata: (o) => ({ status: o.status, customer: o.customer ?? null }) },
  products: { description: 'Products.', object: 'product', eventType: 'product', metadata: (o) => ({ name: o.name, active: o.active }) },
};

const settingsSchema = z.object({
  /** Pins the `Stripe-Version` of the answers; the account's default when absent. */
  apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(\.\w+)?$/, 'must look like 2024-06-20').optional(),
});
export type StripeSettings = z.infer<typeof settingsSchema>;

interface StripeObject {
  id: string;
  object: string;
  created: number;
  [key: string]: unknown;
}

interface StripeEvent {
  id: string;
  type: string;
  created: number;
  data: { object: StripeObject };
}

type StripeCursor = { created?: HighWaterState<number>; events?: HighWaterState<number> };

export function createStripeConnector(options: { baseUrl?: string } = {}): Connector<StripeSettings> {
  return {
    slug: 'stripe',
    name: 'Stripe',
    authType: 'apiKey',
    settingsSchema,
    resources: Object.entries(LISTS).map(([name, spec]) => ({ name, description: spec.description, incremental: true, cursor: 'created[gte], and the Events API for changes (30 days)' })),
    http: {
      platform: 'Stripe',
      baseUrl: options.baseUrl ?? STRIPE_API_URL,
      authorize: (credentials) => {
        const key = credentials.apiKey ?? credentials.accessToken;
        if (!key) throw new ConfigError('The Stripe connection has no secret key');
        return { authorization: `Bearer ${key}` };
      },
      classify: classifyStripe,
    },
    fetch(resource, ctx) {
      const spec = LISTS[resource];
      if (!spec) throw new ConfigError(`Stripe has no resource ${resource}`);
      return fetchList(resource, spec, ctx);
    },
  };
}

async function* fetchList(resource: string, spec: ListSpec, ctx: FetchContext<StripeSettings>): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const headers = ctx.settings.apiVersion ? { 'stripe-version': ctx.settings.apiVersion } : undefined;
  const previous = readCursor(ctx.cursor);
  const created = new HighWaterMark<number>(previous?.created);
  const yielded = new Set<string>();
  let serverStart: number | undefined;

  const listing = paginateCursor<StripeObject>(ctx.http, resource, {
    headers,
    limit: 100,
    query: { ...spec.query, 'created[gte]': created.since },
  });
  for await (const page of listing) {
    serverStart ??= serverSeconds(page.headers);
    if (previous?.events && serverStart - previous.events.at > EVENTS_RETENTION_SECONDS) {
      ctx.log.warn({ resource }, 'cursor older than the Events API keeps: running in full');
      return yield* fetchList(resource, spec, { ...ctx, cursor: undefined });
    }
    for (const object of page.items) {
      if (created.seenBefore(object.created, object.id)) continue;
      created.see(object.created, object.id);
      yielded.add(object.id);
      yield item(resource, spec, object);
    }
  }
  serverStart ??= Math.floor(Date.now() / 1000);

  // Objects created before the mark but changed since: the newest event carries their state.
  const events = new HighWaterMark<number>(previous?.events ?? { at: serverStart - 1, ids: [] });
  if (previous?.events) {
    const changes = paginateCursor<StripeEvent>(ctx.http, 'events', {
      headers,
      limit: 100,
      query: { type: `${spec.eventType}.*`, 'created[gte]': events.since },
    });
    for await (const event of eachItem(changes)) {
      if (events.seenBefore(event.created, event.id)) continue;
      events.see(event.created, event.id);
      const object = event.data?.object;
      // `.created` objects come from the listing above; a deleted object keeps its last backed-up state
      if (!object || object.object !== spec.object || /\.(created|deleted)$/.test(event.type) || yielded.has(object.id)) continue;
      yielded.add(object.id);
      yield item(resource, spec, object);
    }
  }
  const cursor: { [key: string]: Cursor } = {};
  const createdState = created.state();
  const eventsState = events.state();
  if (createdState) cursor.created = createdState;
  if (eventsState) cursor.events = eventsState;
  return cursor;
}

function item(resource: string, spec: ListSpec, object: StripeObject): ConnectorItem {
  return {
    id: object.id,
    path: `${resource}/${object.id}.json`,
    updatedAt: new Date(object.created * 1000).toISOString(),
    contentType: 'application/json',
    metadata: { created: object.created, livemode: object.livemode ?? null, ...spec.metadata(object) },
    content: jsonContent(object),
  };
}

function readCursor(value: unknown): StripeCursor | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { created, events } = value as { created?: unknown; events?: unknown };
  return { created: HighWaterMark.read<number>(created, 'number'), events: HighWaterMark.read<number>(events, 'number') };
}

function serverSeconds(headers: Headers): number {
  const date = Date.parse(headers.get('date') ?? '');
  return Math.floor((Number.isNaN(date) ? Date.now() : date) / 1000);
}

/** Stripe says outright whether a request may be retried (`Stripe-Should-Retry`). */
function classifyStripe(info: ResponseInfo): Verdict | undefined {
  const shouldRetry = info.headers.get('stripe-should-retry');
  if (info.status === 429) return undefined;
  if (shouldRetry === 'true') return { kind: 'transient' };
  if (shouldRetry === 'false' && info.status >= 500) return { kind: 'platform' };
  return undefined;
}
