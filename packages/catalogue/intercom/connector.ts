/**
 * Intercom (REST API, `Intercom-Version: 2.11`): contacts (users and leads), companies,
 * conversations with all their parts, tickets and help center articles of the workspace.
 *
 * Contacts and conversations list with `per_page` and `starting_after` (`pages.next`); each
 * conversation is then read whole, its parts with it. Companies come from the scroll
 * (`scroll_param` until an empty page), articles by `page` until `pages.total_pages`. Incremental
 * runs of contacts, conversations and tickets search `updated_at` (unix seconds) from the newest
 * seen, repeats skipped; tickets have only the search, a full run asking from the beginning.
 *
 * Pacing: the app's 10,000 requests a minute, which Intercom counts in 10-second windows (1,666
 * each); once `X-RateLimit-Remaining` is 0 every request waits for `X-RateLimit-Reset`, and a 429
 * waits for it (or its `Retry-After`).
 */
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  HighWaterMark,
  jsonContent,
  PlatformError,
} from '../sdk/index.ts';

export const INTERCOM_API_URL = 'https://api.intercom.io';
const VERSION = '2.11';
const PAGE = 150;
const ARTICLE_PAGE = 50;

type Json = Record<string, any>;

interface Listing {
  /** Where the full run lists: a GET path, or a search from the beginning. */
  list: string | 'search';
  search: string;
  key: string;
  describe: (item: Json) => { path: string; metadata: Record<string, unknown> };
  /** Read each item whole (a conversation with its parts). */
  expand?: (ctx: FetchContext, item: Json) => Promise<Json>;
}

const LISTINGS: Record<string, Listing> = {
  contacts: { list: 'contacts', search: 'contacts/search', key: 'data', describe: (c) => ({ path: `contacts/${c.id}.json`, metadata: { role: c.role ?? null, name: c.name ?? null, email: c.email ?? null } }) },
  conversations: {
    list: 'conversations',
    search: 'conversations/search',
    key: 'conversations',
    describe: (c) => ({ path: `conversations/${c.id}.json`, metadata: { title: c.title ?? null, state: c.state ?? null, parts: c.conversation_parts?.total_count ?? null } }),
    expand: async (ctx, c) => (await ctx.http.json<Json>(`conversations/${c.id}`, { query: { display_as: 'plaintext' } })).data,
  },
  tickets: { list: 'search', search: 'tickets/search', key: 'tickets', describe: (t) => ({ path: `tickets/${t.id}.json`, metadata: { title: t.ticket_attributes?._default_title_ ?? null, state: t.ticket_state ?? null } }) },
};

export function createIntercomConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'intercom',
    name: 'Intercom',
    authType: 'oauth2',
    resources: [
      { name: 'contacts', incremental: true, cursor: 'search on updated_at', restorable: false, description: 'Users and leads with their attributes.' },
      { name: 'companies', incremental: false, restorable: false, description: 'Companies.' },
      { name: 'conversations', incremental: true, cursor: 'search on updated_at', restorable: false, description: 'Conversations with all their parts.' },
      { name: 'tickets', incremental: true, cursor: 'search on updated_at', restorable: false, description: 'Tickets with their attributes.' },
      { name: 'articles', incremental: false, restorable: false, description: 'Help center articles.' },
    ],
    http: {
      platform: 'Intercom',
      baseUrl: options.baseUrl ?? INTERCOM_API_URL,
      headers: { 'intercom-version': VERSION },
      rate: () => ({ key: 'api', limit: 1666, intervalMs: 10_000 }),
      errorCode: (body) => {
        const code = (body as { errors?: { code?: unknown }[] } | undefined)?.errors?.[0]?.code;
        return typeof code === 'string' ? code : undefined;
      },
    },
    fetch(resource, ctx) {
      if (resource === 'companies') return fetchCompanies(ctx);
      if (resource === 'articles') return fetchArticles(ctx);
      const listing = LISTINGS[resource];
      if (!listing) throw new ConfigError(`Intercom has no resource ${resource}`);
      return fetchListing(ctx, listing);
    },
  };
}

function itemsOf(body: unknown, key: string): Json[] {
  const items = (body as Json | undefined)?.[key];
  if (!Array.isArray(items)) throw new PlatformError(`Intercom: the answer has no ${key} list`);
  return items;
}

function nextCursor(body: unknown): string | undefined {
  const after = (body as { pages?: { next?: { starting_after?: unknown } | null } } | undefined)?.pages?.next?.starting_after;
  return typeof after === 'string' && after ? after : undefined;
}

/** Every page of a GET listing or a search, following `pages.next.starting_after`. */
async function* pages(ctx: FetchContext, listing: Listing, since: number | undefined): AsyncGenerator<Json[], void, undefined> {
  let after: string | undefined;
  const searching = since !== undefined || listing.list === 'search';
  for (;;) {
    const { data } = searching
      ? await ctx.http.json(listing.search, {
          method: 'POST',
          // Search takes no >=: asking past the second before includes the newest second seen.
          json: { query: { field: 'updated_at', operator: '>', value: (since ?? 0) - 1 }, pagination: { per_page: PAGE, ...(after ? { starting_after: after } : {}) } },
          // A search changes nothing: it may be sent again after a failure.
          idempotent: true,
        })
      : await ctx.http.json(listing.list, { query: { per_page: PAGE, starting_after: after } });
    yield itemsOf(data, listing.key);
    const next = nextCursor(data);
    if (!next) return;
    if (next === after) throw new PlatformError('Intercom: has more pages but gives no new cursor');
    after = next;
  }
}

async function* fetchListing(ctx: FetchContext, listing: Listing): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = HighWaterMark.read<number>((ctx.cursor as { mark?: unknown } | null | undefined)?.mark, 'number');
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<number>(previous);
  const seen = new Set<string>();
  for await (const page of pages(ctx, listing, mark.since)) {
    for (const listed of page) {
      const id = String(listed.id);
      const at = typeof listed.updated_at === 'number' ? listed.updated_at : undefined;
      if (seen.has(id) || (at !== undefined && mark.seenBefore(at, id))) continue;
      seen.add(id);
      if (at !== undefined) mark.see(at, id);
      const item = listing.expand ? await listing.expand(ctx, listed) : listed;
      const updatedAt = at === undefined ? undefined : new Date(at * 1000).toISOString();
      yield { id, ...listing.describe(item), updatedAt, changeMarker: at === undefined ? undefined : String(at), contentType: 'application/json', content: jsonContent(item) };
    }
  }
  const state = mark.state();
  return state ? { mark: state } : null;
}

async function* fetchCompanies(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  let param: string | undefined;
  for (;;) {
    const { data } = await ctx.http.json<Json>('companies/scroll', { query: { scroll_param: param } });
    const companies = itemsOf(data, 'data');
    if (companies.length === 0) return undefined;
    for (const company of companies) {
      const at = typeof company.updated_at === 'number' ? company.updated_at : undefined;
      yield { id: String(company.id), path: `companies/${company.id}.json`, updatedAt: at === undefined ? undefined : new Date(at * 1000).toISOString(), changeMarker: at === undefined ? undefined : String(at), contentType: 'application/json', metadata: { name: company.name ?? null, companyId: company.company_id ?? null }, content: jsonContent(company) };
    }
    if (typeof data.scroll_param !== 'string' || !data.scroll_param) throw new PlatformError('Intercom: the companies scroll gives no scroll_param');
    param = data.scroll_param;
  }
}

async function* fetchArticles(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for (let page = 1; ; page++) {
    const { data } = await ctx.http.json<Json>('articles', { query: { page, per_page: ARTICLE_PAGE } });
    for (const article of itemsOf(data, 'data')) {
      const at = typeof article.updated_at === 'number' ? article.updated_at : undefined;
      yield { id: String(article.id), path: `articles/${article.id}.json`, updatedAt: at === undefined ? undefined : new Date(at * 1000).toISOString(), changeMarker: at === undefined ? undefined : String(at), contentType: 'application/json', metadata: { title: article.title ?? null, state: article.state ?? null }, content: jsonContent(article) };
    }
    const total = Number(data?.pages?.total_pages ?? 0);
    if (!(page < total)) return undefined;
  }
}
