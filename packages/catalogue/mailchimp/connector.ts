/**
 * Mailchimp (Marketing API 3.0 at `https://{dc}.api.mailchimp.com/3.0`, the data center from the
 * OAuth metadata endpoint or the API key's suffix): audiences with their merge fields, audience
 * members, campaigns with their content, and templates with their content.
 *
 * Collections page with `count` (1,000, the most Mailchimp gives) and `offset` until `total_items`
 * are read, in Mailchimp's own order (sorting members by `last_changed` would move a member changed
 * during the listing behind the offset and skip another). Members are incremental per audience:
 * the next run asks for those changed since a second before the previous listing began
 * (`since_last_changed`, from the `Date` of its first page); an audience new since then is read
 * whole. Mailchimp reports no deletions: the
 * weekly full run drops them (archived members are listed with their status).
 *
 * Pacing: at most 10 requests of a user at once, as Mailchimp documents (it answers 429 beyond);
 * a 429 backs off and tries again. Errors are RFC 7807 problem details (`title`, `detail`); an
 * OAuth token never expires, so a 401 reads the credentials once more and then is an AuthError.
 * OAuth tokens go as `Authorization: OAuth …`, API keys as Basic authentication.
 */
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  jsonContent,
  PlatformError,
} from '../sdk/index.ts';

const PAGE = 1000;
const CONNECTIONS = 10;

type Json = Record<string, any>;

export function createMailchimpConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'mailchimp',
    name: 'Mailchimp',
    authType: 'oauth2',
    resources: [
      { name: 'lists', incremental: false, restorable: false, description: 'Audiences with their settings and merge fields.' },
      { name: 'members', incremental: true, cursor: 'since_last_changed (last_changed), per audience', restorable: false, description: 'Audience members with their merge fields, tags and status.' },
      { name: 'campaigns', incremental: false, restorable: false, description: 'Campaigns with their settings and content (HTML and plain text).' },
      { name: 'templates', incremental: false, restorable: false, description: 'Templates with their content.' },
    ],
    http: {
      platform: 'Mailchimp',
      // The connection's own root (https://{dc}.api.mailchimp.com/3.0) always comes in options.
      baseUrl: options.baseUrl ?? 'https://mailchimp.invalid/3.0',
      authorize: (credentials): Record<string, string> => {
        if (credentials.accessToken) return { authorization: `OAuth ${credentials.accessToken}` };
        if (credentials.apiKey) return { authorization: `Basic ${Buffer.from(`listbackup:${credentials.apiKey}`).toString('base64')}` };
        throw new ConfigError('The Mailchimp connection has no token or API key');
      },
      // Ten at a time: a request's slot is free again as soon as it is answered.
      rate: () => ({ key: 'connections', limit: CONNECTIONS, intervalMs: 0 }),
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const b = (body ?? {}) as Json;
        const fields = Array.isArray(b.errors) ? b.errors.map((e: Json) => [e.field, e.message].filter(Boolean).join(': ')).filter(Boolean) : [];
        return [[b.title, b.detail].filter((s) => typeof s === 'string' && s).join(': '), ...fields].filter(Boolean).join('; ') || undefined;
      },
      errorCode: (body) => {
        const title = (body as { title?: unknown } | undefined)?.title;
        return typeof title === 'string' ? title : undefined;
      },
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'lists':
          return fetchLists(ctx);
        case 'members':
          return fetchMembers(ctx);
        case 'campaigns':
          return fetchCampaigns(ctx);
        case 'templates':
          return fetchTemplates(ctx);
        default:
          throw new ConfigError(`Mailchimp has no resource ${resource}`);
      }
    },
  };
}

/** Every item of a collection, `count`/`offset` until `total_items` are read. */
async function* collection(
  ctx: FetchContext,
  path: string,
  key: string,
  query: Record<string, string> = {},
  onPage?: (headers: Headers, totalItems: number) => void,
): AsyncGenerator<Json, void, undefined> {
  for (let offset = 0; ; ) {
    const { data, headers } = await ctx.http.json<Json>(path, { query: { ...query, count: PAGE, offset } });
    onPage?.(headers, Number(data?.total_items));
    const items = data?.[key];
    if (!Array.isArray(items)) throw new PlatformError(`Mailchimp: ${path} answered without ${key}`);
    yield* items;
    offset += items.length;
    const total = Number(data.total_items);
    if (items.length === 0 || !Number.isFinite(total) || offset >= total) return;
  }
}

const safe = (name: string) => name.replace(/[/\\]/g, '_');

async function* fetchLists(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for await (const list of collection(ctx, 'lists', 'lists', {}, (_headers, total) => ctx.expect({ items: total }))) {
    const mergeFields: Json[] = [];
    for await (const field of collection(ctx, `lists/${list.id}/merge-fields`, 'merge_fields')) mergeFields.push(field);
    yield {
      id: String(list.id),
      path: `lists/${safe(String(list.name ?? list.id))}.json`,
      contentType: 'application/json',
      metadata: { name: list.name ?? null, members: list.stats?.member_count ?? null },
      content: jsonContent({ ...list, merge_fields: mergeFields }),
    };
  }
  return undefined;
}

/** Per audience, the time (Mailchimp's clock) the previous run began listing its members. */
function readSince(ctx: FetchContext): Record<string, string> {
  if (ctx.cursor === undefined) return {};
  const lists = (ctx.cursor as { lists?: unknown } | null)?.lists;
  if (!lists || typeof lists !== 'object') {
    ctx.log.warn('unreadable cursor, running in full');
    return {};
  }
  return Object.fromEntries(Object.entries(lists).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && !Number.isNaN(Date.parse(entry[1]))));
}

async function* fetchMembers(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readSince(ctx);
  const next: Record<string, string> = {};
  for await (const list of collection(ctx, 'lists', 'lists')) {
    const listId = String(list.id);
    const since = previous[listId];
    let began: number | undefined;
    const seen = new Set<string>();
    const members = collection(ctx, `lists/${listId}/members`, 'members', since ? { since_last_changed: since } : {}, (headers) => {
      const date = Date.parse(headers.get('date') ?? '');
      began ??= Number.isNaN(date) ? Date.now() : date;
    });
    for await (const member of members) {
      const id = String(member.id);
      if (seen.has(id)) continue;
      seen.add(id);
      yield {
        id: `${listId}/${id}`,
        path: `members/${safe(String(list.name ?? listId))}/${safe(String(member.email_address ?? id))}.json`,
        updatedAt: member.last_changed,
        changeMarker: member.last_changed,
        contentType: 'application/json',
        metadata: { listId, email: member.email_address ?? null, status: member.status ?? null },
        content: jsonContent(member),
      };
    }
    // A second before the listing began: whatever changed while it ran is read again next time.
    if (began !== undefined) next[listId] = new Date(Math.floor(began / 1000) * 1000 - 1000).toISOString();
  }
  return { lists: next };
}

async function* fetchCampaigns(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for await (const campaign of collection(ctx, 'campaigns', 'campaigns', {}, (_headers, total) => ctx.expect({ items: total }))) {
    const { data: content } = await ctx.http.json<Json>(`campaigns/${campaign.id}/content`);
    const title = campaign.settings?.title || campaign.settings?.subject_line || campaign.id;
    yield {
      id: String(campaign.id),
      path: `campaigns/${safe(String(title))} (${campaign.id}).json`,
      contentType: 'application/json',
      metadata: { title, status: campaign.status ?? null, listId: campaign.recipients?.list_id ?? null },
      content: jsonContent({ ...campaign, content }),
    };
  }
  return undefined;
}

async function* fetchTemplates(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for await (const template of collection(ctx, 'templates', 'templates', {}, (_headers, total) => ctx.expect({ items: total }))) {
    const { data: content } = await ctx.http.json<Json>(`templates/${template.id}/default-content`);
    yield {
      id: String(template.id),
      path: `templates/${safe(String(template.name ?? template.id))} (${template.id}).json`,
      updatedAt: template.date_edited,
      changeMarker: template.date_edited,
      contentType: 'application/json',
      metadata: { name: template.name ?? null, type: template.type ?? null },
      content: jsonContent({ ...template, content }),
    };
  }
  return undefined;
}
