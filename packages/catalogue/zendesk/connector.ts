/**
 * Zendesk (Support API v2 and Help Center): tickets with their comments and attachments, users,
 * organizations, groups, business rules (macros, triggers, automations, views) and help center
 * articles of the account at `https://{subdomain}.zendesk.com/api/v2`.
 *
 * Tickets and users come from the cursor-based incremental exports
 * (`incremental/{tickets,users}/cursor.json`, `start_time=0` for a full run, then `cursor`
 * until `end_of_stream`); the last `after_cursor` is the next run's cursor, so a second run lists
 * only what changed. Deleted tickets are left out (`exclude_deleted`): the weekly full run drops
 * them. Organizations and articles come from the time-based incremental exports, from the newest
 * `updated_at` seen (inclusive, repeats skipped). Lists page with `page[size]` / `page[after]`
 * while `meta.has_more`.
 *
 * Pacing: the account's requests a minute as `X-Rate-Limit` states it (200, the smallest plan's,
 * until the first answer says), the incremental exports at their 10 a minute, and a hold until
 * `ratelimit-reset` once `ratelimit-remaining` (or an endpoint's `Zendesk-RateLimit-*`) is 0. A
 * 429 waits its `Retry-After`.
 *
 * Restore writes tickets back: an update (PUT) of the ticket's fields if it still exists (a
 * closed ticket cannot change and is left as it is), else an import of the ticket with its
 * comments (`imports/tickets`); attachments are not uploaded again. Writing needs the
 * `tickets:write` scope.
 */
import {
  ConfigError,
  type Connector,
  ConnectorError,
  type ConnectorItem,
  type Cursor,
  eachItem,
  type FetchContext,
  HighWaterMark,
  type HttpClient,
  jsonContent,
  paginateCursor,
  PlatformError,
  readRestoreJson,
  type ResponseInfo,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

const LIST_PAGE = 100;
const EXPORT_PAGE = 1000;
const DEFAULT_PER_MINUTE = 200;
const EXPORTS_PER_MINUTE = 10;

/** The account's requests a minute per API root, as `X-Rate-Limit` states it. */
const limits = new Map<string, number>();

type Json = Record<string, any>;

interface Attachment {
  id: number;
  file_name: string;
  content_url: string;
  content_type?: string;
  size?: number;
}

const RULES = ['macros', 'triggers', 'automations', 'views'] as const;

export function createZendeskConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'zendesk',
    name: 'Zendesk',
    authType: 'oauth2',
    resources: [
      { name: 'tickets', incremental: true, cursor: 'incremental ticket export cursor', restorable: true, binaryContent: true, description: 'Tickets with their comments, and the comments’ attachments.' },
      { name: 'users', incremental: true, cursor: 'incremental user export cursor', restorable: false, description: 'End users, agents and admins.' },
      { name: 'organizations', incremental: true, cursor: 'incremental organization export from updated_at', restorable: false, description: 'Organizations.' },
      { name: 'groups', incremental: false, restorable: false, description: 'Agent groups.' },
      { name: 'macros', incremental: false, restorable: false, description: 'Macros, triggers, automations and views.' },
      { name: 'articles', incremental: true, cursor: 'incremental help center article export from updated_at', restorable: false, description: 'Help center articles.' },
    ],
    http: {
      platform: 'Zendesk',
      // The connection's own root (https://{subdomain}.zendesk.com/api/v2) always comes in options.
      baseUrl: options.baseUrl ?? 'https://zendesk.invalid/api/v2',
      rate: ({ url }) => {
        if (url.pathname.includes('/incremental/')) return { key: 'incremental', limit: EXPORTS_PER_MINUTE, intervalMs: 60_000 };
        return { key: 'api', limit: limits.get(url.origin) ?? DEFAULT_PER_MINUTE, intervalMs: 60_000 };
      },
      quota: readQuota,
      errorMessage: (body) => {
        const b = (body ?? {}) as Json;
        if (b.error && typeof b.error === 'object') return [b.error.title, b.error.message].filter((s) => typeof s === 'string').join(': ') || undefined;
        if (Array.isArray(b.errors) && b.errors[0]) return [b.errors[0].title, b.errors[0].detail].filter((s) => typeof s === 'string').join(': ') || undefined;
        const text = [b.error, b.description ?? b.error_description].filter((s) => typeof s === 'string').join(': ');
        const details = b.details && typeof b.details === 'object' ? Object.values(b.details as Record<string, { description?: string }[]>).flat().map((d) => d?.description).filter(Boolean) : [];
        return [text, ...details].filter(Boolean).join('; ') || undefined;
      },
      errorCode: (body) => {
        const b = (body ?? {}) as Json;
        if (typeof b.error === 'string') return b.error;
        if (b.error && typeof b.error.title === 'string') return b.error.title;
        return typeof b.errors?.[0]?.code === 'string' ? b.errors[0].code : undefined;
      },
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'tickets':
          return fetchTickets(ctx);
        case 'users':
          return fetchCursorExport(ctx, 'users', (user) => ({ path: `users/${user.id}.json`, metadata: { name: user.name ?? null, email: user.email ?? null, role: user.role ?? null } }));
        case 'organizations':
          return fetchTimeExport(ctx, 'incremental/organizations.json', 'organizations', (org) => ({ path: `organizations/${org.id}.json`, metadata: { name: org.name ?? null } }));
        case 'articles':
          return fetchTimeExport(ctx, 'help_center/incremental/articles.json', 'articles', (article) => ({ path: `articles/${article.id}.json`, metadata: { title: article.title ?? null, locale: article.locale ?? null, draft: article.draft ?? null } }));
        case 'groups':
          return fetchLists(ctx, ['groups']);
        case 'macros':
          return fetchLists(ctx, RULES);
        default:
          throw new ConfigError(`Zendesk has no resource ${resource}`);
      }
    },
    restore(resource, items, ctx) {
      if (resource !== 'tickets') throw new ConfigError(`Zendesk cannot restore ${resource}; export it instead`);
      return restoreTickets(items, ctx);
    },
  };
}

/** Learns the account's limit; holds until the reset once a quota says none is left. */
function readQuota(info: ResponseInfo): number | undefined {
  const limit = Number(info.headers.get('x-rate-limit') ?? info.headers.get('ratelimit-limit') ?? Number.NaN);
  if (Number.isInteger(limit) && limit > 0) limits.set(new URL(info.url).origin, limit);
  let hold: number | undefined;
  const remaining = info.headers.get('ratelimit-remaining') ?? info.headers.get('x-rate-limit-remaining');
  if (remaining !== null && Number(remaining) <= 0) {
    const reset = Number(info.headers.get('ratelimit-reset') ?? Number.NaN);
    hold = Number.isFinite(reset) && reset >= 0 ? reset * 1000 : 60_000;
  }
  // Endpoint limits: `zendesk-ratelimit-tickets-index: total=100; remaining=0; resets=41`.
  for (const [name, value] of info.headers) {
    if (!name.startsWith('zendesk-ratelimit-')) continue;
    const fields = Object.fromEntries(value.split(';').map((part) => part.trim().split('=')));
    if (Number(fields.remaining) === 0 && Number.isFinite(Number(fields.resets))) hold = Math.max(hold ?? 0, Number(fields.resets) * 1000);
  }
  return hold;
}

function itemsOf(body: unknown, key: string): Json[] {
  const items = (body as Json | undefined)?.[key];
  if (!Array.isArray(items)) throw new PlatformError(`Zendesk: the answer has no ${key} list`);
  return items;
}

/** A cursor pagination listing (`page[size]`, `page[after]`, `meta.has_more`). */
function listPages(http: HttpClient, path: string, key: string) {
  return paginateCursor<Json>(http, path, {
    limit: LIST_PAGE,
    limitParam: 'page[size]',
    cursorParam: 'page[after]',
    items: (body) => itemsOf(body, key),
    hasMore: (body) => (body as Json | undefined)?.meta?.has_more === true,
    nextCursor: (body) => (body as Json | undefined)?.meta?.after_cursor ?? undefined,
  });
}

function readExportCursor(ctx: FetchContext): string | undefined {
  const cursor = (ctx.cursor as { cursor?: unknown } | null | undefined)?.cursor;
  if (typeof cursor === 'string' && cursor) return cursor;
  if (ctx.cursor !== undefined) ctx.log.warn('unreadable cursor, running in full');
  return undefined;
}

/** The pages of a cursor-based incremental export; returns the cursor to resume from. */
async function* cursorExport(ctx: FetchContext, key: 'tickets' | 'users', extra: Record<string, string>): AsyncGenerator<Json[], string | undefined, undefined> {
  let cursor = readExportCursor(ctx);
  for (;;) {
    const query = { ...(cursor ? { cursor } : { start_time: 0 }), per_page: EXPORT_PAGE, ...extra };
    const { data } = await ctx.http.json<Json>(`incremental/${key}/cursor.json`, { query });
    yield itemsOf(data, key);
    const next = typeof data?.after_cursor === 'string' && data.after_cursor ? data.after_cursor : cursor;
    if (data?.end_of_stream === true) return next;
    if (!next || next === cursor) throw new PlatformError(`Zendesk: the ${key} export has more but gives no new cursor`);
    cursor = next;
  }
}

async function* fetchCursorExport(ctx: FetchContext, key: 'users', describe: (item: Json) => { path: string; metadata: Record<string, unknown> }): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const pages = cursorExport(ctx, key, {});
  for (;;) {
    const next = await pages.next();
    if (next.done) return next.value ? { cursor: next.value } : null;
    for (const item of next.value) yield { id: String(item.id), ...describe(item), updatedAt: item.updated_at, changeMarker: item.updated_at, contentType: 'application/json', content: jsonContent(item) };
  }
}

async function* fetchTickets(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const pages = cursorExport(ctx, 'tickets', { exclude_deleted: 'true' });
  for (;;) {
    const next = await pages.next();
    if (next.done) return next.value ? { cursor: next.value } : null;
    for (const ticket of next.value) {
      const comments = await commentsOf(ctx, ticket.id);
      if (!comments) {
        ctx.log.info({ ticket: ticket.id }, 'ticket deleted while listed, skipped');
        continue;
      }
      yield {
        id: String(ticket.id),
        path: `tickets/${ticket.id}.json`,
        updatedAt: ticket.updated_at,
        changeMarker: ticket.updated_at,
        contentType: 'application/json',
        metadata: { kind: 'ticket', subject: ticket.subject ?? null, status: ticket.status ?? null },
        content: jsonContent({ ...ticket, comments }),
      };
      for (const comment of comments) {
        for (const attachment of (comment.attachments ?? []) as Attachment[]) {
          const url = new URL(attachment.content_url);
          // Private attachments need the credential; a link elsewhere is fetched by its token alone.
          const sameOrigin = url.origin === ctx.http.url('').origin;
          yield {
            id: `attachment/${attachment.id}`,
            path: `tickets/${ticket.id}/attachments/${attachment.id}-${attachment.file_name.replace(/[/\\]/g, '_')}`,
            // An attachment never changes: its id marks its content.
            changeMarker: String(attachment.id),
            size: attachment.size,
            contentType: attachment.content_type,
            metadata: { kind: 'attachment', ticketId: ticket.id, commentId: comment.id, fileName: attachment.file_name },
            content: () => ctx.http.stream(url.toString(), { auth: sameOrigin, resumable: true }),
          };
        }
      }
    }
  }
}

/** A ticket's comments, or undefined when the ticket is gone. */
async function commentsOf(ctx: FetchContext, ticketId: number): Promise<Json[] | undefined> {
  const comments: Json[] = [];
  try {
    for await (const comment of eachItem(listPages(ctx.http, `tickets/${ticketId}/comments.json`, 'comments'))) comments.push(comment);
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) return undefined;
    throw error;
  }
  return comments;
}

/** A time-based incremental export from the newest `updated_at` seen (inclusive, repeats skipped). */
async function* fetchTimeExport(ctx: FetchContext, path: string, key: string, describe: (item: Json) => { path: string; metadata: Record<string, unknown> }): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = HighWaterMark.read<number>((ctx.cursor as { mark?: unknown } | null | undefined)?.mark, 'number');
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<number>(previous);
  const seen = new Set<string>();
  let url: string = ctx.http.url(path, { start_time: mark.since ?? 0 }).toString();
  const visited = new Set<string>([url]);
  for (;;) {
    const { data } = await ctx.http.json<Json>(url);
    for (const item of itemsOf(data, key)) {
      const id = String(item.id);
      const at = Math.floor(Date.parse(item.updated_at) / 1000);
      if (seen.has(id) || (!Number.isNaN(at) && mark.seenBefore(at, id))) continue;
      seen.add(id);
      if (!Number.isNaN(at)) mark.see(at, id);
      yield { id, ...describe(item), updatedAt: item.updated_at, changeMarker: item.updated_at, contentType: 'application/json', content: jsonContent(item) };
    }
    const next = typeof data?.next_page === 'string' ? data.next_page : undefined;
    if (data?.end_of_stream === true || !next) break;
    if (visited.has(next)) throw new PlatformError(`Zendesk: the ${key} export loops back to ${next}`);
    visited.add(next);
    url = next;
  }
  const state = mark.state();
  return state ? { mark: state } : null;
}

async function* fetchLists(ctx: FetchContext, kinds: readonly string[]): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for (const kind of kinds) {
    for await (const item of eachItem(listPages(ctx.http, `${kind}.json`, kind))) {
      const single = kinds.length === 1;
      yield {
        id: single ? String(item.id) : `${kind}/${item.id}`,
        path: single ? `${kind}/${item.id}.json` : `macros/${kind}/${item.id}.json`,
        updatedAt: item.updated_at,
        changeMarker: item.updated_at,
        contentType: 'application/json',
        metadata: { kind, title: item.title ?? item.name ?? null },
        content: jsonContent(item),
      };
    }
  }
  return undefined;
}

async function restoreTickets(items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  let restored = 0;
  for await (const item of items) {
    if (item.metadata.kind === 'attachment') continue;
    const ticket = await readTicket(item);
    const fields = {
      subject: ticket.subject,
      priority: ticket.priority ?? null,
      type: ticket.type ?? null,
      tags: Array.isArray(ticket.tags) ? ticket.tags : [],
      assignee_id: ticket.assignee_id ?? null,
      group_id: ticket.group_id ?? null,
      custom_fields: Array.isArray(ticket.custom_fields) ? ticket.custom_fields : [],
      due_at: ticket.due_at ?? null,
    };
    try {
      const existing = await currentTicket(ctx, ticket.id);
      if (existing?.status === 'closed') {
        ctx.log.info({ ticket: ticket.id }, 'closed ticket left as it is');
        continue;
      }
      if (existing) {
        // A ticket cannot be set to closed through the API; solved closes it in time.
        await ctx.http.json(`tickets/${ticket.id}.json`, { method: 'PUT', json: { ticket: { ...fields, status: ticket.status === 'closed' ? 'solved' : ticket.status } } });
      } else {
        const comments = (Array.isArray(ticket.comments) ? ticket.comments : []).map((c: Json) => ({ author_id: c.author_id, value: c.body ?? c.plain_body ?? '', public: c.public !== false, created_at: c.created_at }));
        const imported = { ...fields, status: ticket.status, requester_id: ticket.requester_id, submitter_id: ticket.submitter_id ?? ticket.requester_id, organization_id: ticket.organization_id ?? null, created_at: ticket.created_at, comments };
        await ctx.http.json('imports/tickets.json', { method: 'POST', json: { ticket: imported } });
      }
    } catch (error) {
      if (error instanceof ConnectorError && error.status === 403) {
        throw new ConfigError('Zendesk refused to write the ticket: restoring needs the tickets:write scope (reconnect Zendesk)', { status: 403, platformCode: error.platformCode });
      }
      throw error;
    }
    restored++;
  }
  return { restored, units: restored };
}

async function currentTicket(ctx: RestoreContext, id: number): Promise<Json | undefined> {
  try {
    const { data } = await ctx.http.json<{ ticket: Json }>(`tickets/${id}.json`);
    return data.ticket;
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) return undefined;
    throw error;
  }
}

async function readTicket(item: RestoreItem): Promise<Json & { id: number; subject: string; requester_id: number }> {
  const ticket: any = await readRestoreJson(item, 'Zendesk', 'a ticket');
  if (typeof ticket?.id !== 'number' || typeof ticket.subject !== 'string' || typeof ticket.requester_id !== 'number') throw new ConfigError(`Zendesk: ${item.path} is not a ticket (no id, subject and requester_id)`);
  return ticket;
}
