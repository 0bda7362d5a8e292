/**
 * Notion (API version 2022-06-28): the pages shared with the integration with their block trees,
 * databases with their schema and rows, comments on pages, and the workspace's users. Lists page
 * with `start_cursor` / `page_size=100` while `has_more`; requests are paced to Notion's average of
 * 3 a second per integration, and a 429 `rate_limited` waits its `Retry-After`.
 *
 * Incremental: pages come from search sorted by `last_edited_time`, newest first, down to the
 * previous run's mark; database rows from a query filtered `last_edited_time on_or_after` the
 * mark, per database. The mark is the minute before the run began by Notion's clock: Notion rounds
 * `last_edited_time` down to the minute, so an item edited twice within one minute keeps its time,
 * and no change marker is set.
 *
 * Restore writes a page back as a new page under its original parent (or `options.parentPageId`),
 * with its title, icon, cover and block tree; child pages and databases, which are objects of
 * their own, are left out of the tree.
 */
import { z } from 'zod';
import {
  ConfigError,
  ConnectorError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  jsonContent,
  PlatformError,
  readRestoreJson,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

export const NOTION_API_URL = 'https://api.notion.com/v1';
export const NOTION_VERSION = '2022-06-28';

const PAGE = 100;
/** Children Notion takes in one append. */
const APPEND_LIMIT = 100;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Blocks that are objects of their own, or that the API cannot create. */
const NOT_CREATABLE = new Set(['child_page', 'child_database', 'unsupported', 'link_preview', 'ai_block', 'transcription']);
/** What Notion sets on a block itself. */
const BLOCK_BOOKKEEPING = new Set(['object', 'id', 'parent', 'created_time', 'last_edited_time', 'created_by', 'last_edited_by', 'has_children', 'archived', 'in_trash', 'request_id']);

interface NotionList<T> {
  object: 'list';
  results: T[];
  next_cursor: string | null;
  has_more: boolean;
}

interface NotionObject {
  object: string;
  id: string;
  last_edited_time?: string;
  parent?: { type: string; page_id?: string; database_id?: string; block_id?: string; workspace?: boolean };
  properties?: Record<string, unknown>;
  title?: { plain_text?: string }[];
  [key: string]: unknown;
}

interface Block extends NotionObject {
  type: string;
  has_children?: boolean;
  children?: Block[];
}

const restoreOptions = z.object({ parentPageId: z.string().uuid().optional() }).passthrough();

export function createNotionConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'notion',
    name: 'Notion',
    authType: 'oauth2',
    resources: [
      { name: 'pages', incremental: true, cursor: 'search sorted by last_edited_time, down to the last run (minute precision)', restorable: true, description: 'Pages shared with the integration, each with its block tree.' },
      { name: 'databases', incremental: true, cursor: 'last_edited_time on_or_after filter, per database (minute precision)', restorable: false, description: 'Databases: their schema and every row with its properties.' },
      { name: 'comments', incremental: false, restorable: false, description: 'Comments on the shared pages (needs the read comments capability).' },
      { name: 'users', incremental: false, restorable: false, description: 'Members and bots of the workspace.' },
    ],
    http: {
      platform: 'Notion',
      baseUrl: options.baseUrl ?? NOTION_API_URL,
      headers: { 'notion-version': NOTION_VERSION },
      rate: () => ({ key: 'api', limit: 3, intervalMs: 1000 }),
      errorCode: (body) => {
        const code = (body as { code?: unknown } | undefined)?.code;
        return typeof code === 'string' ? code : undefined;
      },
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'pages':
          return fetchPages(ctx);
        case 'databases':
          return fetchDatabases(ctx);
        case 'comments':
          return fetchComments(ctx);
        case 'users':
          return fetchUsers(ctx);
        default:
          throw new ConfigError(`Notion has no resource ${resource}`);
      }
    },
    restore(resource, items, ctx) {
      if (resource !== 'pages') throw new ConfigError(`Notion cannot restore ${resource}; export it instead`);
      return restorePages(items, ctx);
    },
  };
}

/** Notion's clock at the first answer of a run (its `Date` header), in epoch ms. */
interface RunClock {
  startedAt?: number;
}

/** Every page of a list: GET with query parameters, or POST with the cursor in the body. */
async function* listAll<T>(
  ctx: FetchContext | RestoreContext,
  path: string,
  request: { method: 'GET'; query?: Record<string, string> } | { method: 'POST'; body: Record<string, unknown> },
  clock?: RunClock,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const { data, headers } =
      request.method === 'GET'
        ? await ctx.http.json<NotionList<T>>(path, { query: { ...request.query, page_size: PAGE, start_cursor: cursor } })
        : // search and query change nothing: they may be sent again after a failure
          await ctx.http.json<NotionList<T>>(path, { method: 'POST', idempotent: true, json: { ...request.body, page_size: PAGE, ...(cursor ? { start_cursor: cursor } : {}) } });
    if (!Array.isArray(data?.results)) throw new PlatformError(`Notion: ${path} answered without results`);
    if (clock && clock.startedAt === undefined) {
      const date = Date.parse(headers.get('date') ?? '');
      clock.startedAt = Number.isNaN(date) ? Date.now() : date;
    }
    yield* data.results;
    if (!data.has_more) return;
    const next = data.next_cursor;
    if (!next || seen.has(next)) throw new PlatformError(`Notion: ${path} has more results but no new next_cursor`);
    seen.add(next);
    cursor = next;
  }
}

/** The mark a previous run left for a resource (an ISO minute). */
function readMark(ctx: FetchContext, key: string): string | undefined {
  const value = (ctx.cursor as Record<string, unknown> | undefined)?.[key];
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
  if (ctx.cursor !== undefined && value !== undefined) ctx.log.warn({ key }, 'unreadable cursor, running in full');
  return undefined;
}

/**
 * The next run's mark: the minute before this run began by Notion's clock. Everything edited
 * before the run began was listed by it; an edit during or after it has a last_edited_time at or
 * past that minute (the minute of margin covers search indexing a little behind).
 */
function nextMark(clock: RunClock): string | undefined {
  if (clock.startedAt === undefined) return undefined;
  return new Date(Math.floor((clock.startedAt - 60_000) / 60_000) * 60_000).toISOString();
}

async function* searchNewestFirst(ctx: FetchContext, kind: 'page' | 'database', since: string | undefined, clock?: RunClock): AsyncGenerator<NotionObject, void, undefined> {
  const listing = listAll<NotionObject>(ctx, 'search', { method: 'POST', body: { filter: { property: 'object', value: kind }, sort: { direction: 'descending', timestamp: 'last_edited_time' } } }, clock);
  for await (const object of listing) {
    // Newest first: the first one older than the mark ends the walk.
    if (since && object.last_edited_time && Date.parse(object.last_edited_time) < Date.parse(since)) return;
    yield object;
  }
}

async function* fetchPages(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const since = readMark(ctx, 'pages');
  const clock: RunClock = {};
  for await (const page of searchNewestFirst(ctx, 'page', since, clock)) {
    // Rows are backed up with their database.
    if (page.parent?.type === 'database_id') continue;
    const blocks = await blockTree(ctx, page.id);
    yield {
      id: page.id,
      path: `pages/${safe(titleOf(page))} (${page.id}).json`,
      updatedAt: page.last_edited_time,
      contentType: 'application/json',
      metadata: { title: titleOf(page), parent: page.parent ?? null, url: page.url ?? null, blocks: countBlocks(blocks) },
      content: jsonContent({ page, blocks }),
    };
  }
  const mark = nextMark(clock) ?? since;
  return mark ? { pages: mark } : null;
}

/** The children of a block (or page), each with its own children, child pages and databases aside. */
async function blockTree(ctx: FetchContext, id: string): Promise<Block[]> {
  const blocks: Block[] = [];
  for await (const block of listAll<Block>(ctx, `blocks/${id}/children`, { method: 'GET' })) {
    if (block.has_children && block.type !== 'child_page' && block.type !== 'child_database') block.children = await blockTree(ctx, block.id);
    blocks.push(block);
  }
  return blocks;
}

function countBlocks(blocks: Block[]): number {
  return blocks.reduce((sum, block) => sum + 1 + countBlocks(block.children ?? []), 0);
}

async function* fetchDatabases(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = (ctx.cursor as { databases?: Record<string, unknown> } | undefined)?.databases ?? {};
  const schemasSince = readMark(ctx, 'schemas');
  const clock: RunClock = {};
  const next: Record<string, string> = {};
  // Every database, changed or not: its rows may have changed without its schema.
  for await (const database of listAll<NotionObject>(ctx, 'search', { method: 'POST', body: { filter: { property: 'object', value: 'database' } } }, clock)) {
    const title = (database.title ?? []).map((t) => t.plain_text ?? '').join('') || 'Untitled';
    const folder = `databases/${safe(title)} (${database.id})`;
    if (!schemasSince || !database.last_edited_time || Date.parse(database.last_edited_time) >= Date.parse(schemasSince)) {
      yield { id: database.id, path: `${folder}/database.json`, updatedAt: database.last_edited_time, contentType: 'application/json', metadata: { kind: 'database', title }, content: jsonContent(database) };
    }
    const since = typeof previous[database.id] === 'string' && !Number.isNaN(Date.parse(previous[database.id] as string)) ? (previous[database.id] as string) : undefined;
    const body: Record<string, unknown> = since ? { filter: { timestamp: 'last_edited_time', last_edited_time: { on_or_after: since } } } : {};
    for await (const row of listAll<NotionObject>(ctx, `databases/${database.id}/query`, { method: 'POST', body })) {
      yield { id: row.id, path: `${folder}/rows/${row.id}.json`, updatedAt: row.last_edited_time, contentType: 'application/json', metadata: { kind: 'row', database: database.id, title: titleOf(row) }, content: jsonContent(row) };
    }
    const mark = nextMark(clock) ?? since;
    if (mark) next[database.id] = mark;
  }
  const schemas = nextMark(clock) ?? schemasSince;
  return { ...(schemas ? { schemas } : {}), databases: next };
}

async function* fetchComments(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  for await (const page of searchNewestFirst(ctx, 'page', undefined)) {
    let comments: NotionObject[];
    try {
      comments = [];
      for await (const comment of listAll<NotionObject>(ctx, 'comments', { method: 'GET', query: { block_id: page.id } })) comments.push(comment);
    } catch (error) {
      if (error instanceof ConnectorError && error.platformCode === 'restricted_resource') {
        throw new ConfigError('Notion: the integration lacks the "Read comments" capability; turn it on in the integration settings', { status: error.status, platformCode: error.platformCode });
      }
      throw error;
    }
    for (const comment of comments) {
      yield {
        id: comment.id,
        path: `comments/${page.id}/${comment.id}.json`,
        updatedAt: comment.last_edited_time,
        contentType: 'application/json',
        metadata: { page: page.id, discussion: comment.discussion_id ?? null },
        content: jsonContent(comment),
      };
    }
  }
  return undefined;
}

async function* fetchUsers(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  for await (const user of listAll<NotionObject & { name?: string; type?: string }>(ctx, 'users', { method: 'GET' })) {
    yield { id: user.id, path: `users/${user.id}.json`, contentType: 'application/json', metadata: { name: user.name ?? null, type: user.type ?? null }, content: jsonContent(user) };
  }
  return undefined;
}

function titleOf(page: NotionObject): string {
  for (const property of Object.values(page.properties ?? {})) {
    const value = property as { type?: string; title?: { plain_text?: string }[] };
    if (value?.type === 'title') return (value.title ?? []).map((t) => t.plain_text ?? '').join('') || 'Untitled';
  }
  return 'Untitled';
}

function safe(segment: string): string {
  return segment.replace(/[/\\]/g, '_').slice(0, 120) || 'Untitled';
}

async function restorePages(items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  const parsed = restoreOptions.safeParse(ctx.options);
  if (!parsed.success) throw new ConfigError(`Notion restore options are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  let restored = 0;
  let blocks = 0;
  for await (const item of items) {
    const { page, blocks: tree } = await readPage(item);
    const parent = parsed.data.parentPageId ? { page_id: parsed.data.parentPageId } : parentOf(page);
    const properties = Object.fromEntries(
      Object.entries(page.properties ?? {}).map(([name, value]) => {
        const { id: _id, ...rest } = value as Record<string, unknown>;
        return [name, rest];
      }),
    );
    let created: NotionObject;
    try {
      const answer = await ctx.http.json<NotionObject>('pages', { method: 'POST', json: { parent, properties, ...(page.icon ? { icon: page.icon } : {}), ...(page.cover ? { cover: page.cover } : {}) } });
      created = answer.data;
    } catch (error) {
      if (error instanceof ConnectorError && error.platformCode === 'object_not_found') {
        throw new ConfigError(`Notion: the parent of "${titleOf(page)}" is gone or not shared with the integration; restore it under another page (parentPageId)`, { status: error.status, platformCode: error.platformCode });
      }
      throw error;
    }
    blocks += await appendTree(ctx, created.id, tree);
    restored++;
  }
  return { restored, units: blocks };
}

function parentOf(page: NotionObject): Record<string, unknown> {
  const parent = page.parent;
  if (parent?.type === 'page_id' && parent.page_id) return { page_id: parent.page_id };
  if (parent?.type === 'database_id' && parent.database_id) return { database_id: parent.database_id };
  if (parent?.type === 'block_id' && parent.block_id) return { page_id: parent.block_id };
  return { type: 'workspace', workspace: true };
}

/** Appends blocks 100 at a time, then each created block's children under it; returns how many. */
async function appendTree(ctx: RestoreContext, parentId: string, tree: Block[]): Promise<number> {
  const creatable = tree.filter((block) => !NOT_CREATABLE.has(block.type));
  let count = 0;
  for (let i = 0; i < creatable.length; i += APPEND_LIMIT) {
    const chunk = creatable.slice(i, i + APPEND_LIMIT);
    // An append is not idempotent: a failed one is not sent again.
    const { data } = await ctx.http.json<NotionList<NotionObject>>(`blocks/${parentId}/children`, { method: 'PATCH', idempotent: false, json: { children: chunk.map(writableBlock) } });
    if (!Array.isArray(data?.results) || data.results.length !== chunk.length) throw new PlatformError('Notion: the append answered a different number of blocks than were sent');
    count += chunk.length;
    for (const [j, block] of chunk.entries()) {
      if (block.children?.length) count += await appendTree(ctx, data.results[j].id, block.children);
    }
  }
  return count;
}

function writableBlock(block: Block): Record<string, unknown> {
  return Object.fromEntries(Object.entries(block).filter(([key]) => !BLOCK_BOOKKEEPING.has(key) && key !== 'children'));
}

async function readPage(item: RestoreItem): Promise<{ page: NotionObject; blocks: Block[] }> {
  const record: { page?: NotionObject; blocks?: Block[] } = await readRestoreJson(item, 'Notion', 'a backed-up page', { maxBytes: MAX_RECORD_BYTES, object: true });
  if (!record.page || typeof record.page.id !== 'string' || !Array.isArray(record.blocks)) throw new ConfigError(`Notion: ${item.path} is not a backed-up page (no page and blocks)`);
  return { page: record.page, blocks: record.blocks };
}
