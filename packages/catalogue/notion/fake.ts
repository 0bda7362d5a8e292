/**
 * A fake of the Notion API (Notion-Version 2022-06-28) for what the connector uses: search (pages
 * or databases, sorted by last_edited_time), block children (read and append), databases (read and
 * query with a last_edited_time filter), pages (create), comments and users. Speaks the documented
 * wire format:
 *
 * - lists as `{"object": "list", "results": […], "next_cursor": …, "has_more": …}` paged with
 *   `start_cursor` / `page_size` (at most 100);
 * - `last_edited_time` rounded down to the minute, as Notion keeps it;
 * - errors as `{"object": "error", "status": …, "code": …, "message": …}`: a missing
 *   `Notion-Version` is `missing_version`, a bad token `unauthorized`, an object not shared with
 *   the integration `object_not_found`, a capability it lacks `restricted_resource`;
 * - an average of 3 requests a second per integration: beyond it a 429 `rate_limited` with
 *   `Retry-After` (`overLimit` counts them).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export const NOTION_VERSION = '2022-06-28';

type Json = Record<string, any>;

/** Notion's timestamps: ISO 8601, last_edited_time rounded down to the minute. */
export function minute(ms: number): string {
  return new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
}

function richText(content: string): Json[] {
  return [{ type: 'text', text: { content, link: null }, annotations: { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: 'default' }, plain_text: content, href: null }];
}

export class FakeNotion extends FakeServer {
  readonly tokens = new Set<string>(['secret_valid']);
  /** Whether the integration has the "read comments" capability. */
  readComments = true;
  /** The documented average: requests per second per integration. */
  perSecond = 3;
  /** Most results a page of a list type (`block`, `user`, `page_or_database`, `comment`) holds, whatever `page_size` asks. */
  readonly maxPage: Record<string, number> = {};
  readonly overLimit: RecordedRequest[] = [];
  readonly pages: Json[] = [];
  readonly databases: Json[] = [];
  /** Children of a page or block, in order. */
  readonly children = new Map<string, Json[]>();
  readonly comments: Json[] = [];
  readonly users: Json[] = [];
  readonly bot = { object: 'user', id: randomUUID(), type: 'bot', name: 'ListBackup', bot: { owner: { type: 'workspace', workspace: true }, workspace_name: 'Acme' } };
  #calls = new Map<string, number[]>();

  #stamp(): { created_time: string; last_edited_time: string } {
    return { created_time: new Date(Math.floor(this.now() / 1000) * 1000).toISOString(), last_edited_time: minute(this.now()) };
  }

  addPage(title: string, parent: Json = { type: 'workspace', workspace: true }, properties?: Json): Json {
    const id = randomUUID();
    const page = {
      object: 'page',
      id,
      ...this.#stamp(),
      created_by: { object: 'user', id: this.bot.id },
      last_edited_by: { object: 'user', id: this.bot.id },
      cover: null,
      icon: { type: 'emoji', emoji: '📄' },
      parent,
      archived: false,
      in_trash: false,
      properties: properties ?? { title: { id: 'title', type: 'title', title: richText(title) } },
      url: `https://www.notion.so/${id.replace(/-/g, '')}`,
      public_url: null,
    };
    this.pages.push(page);
    this.children.set(id, []);
    return page;
  }

  addDatabase(title: string, parentPageId: string): Json {
    const id = randomUUID();
    const database = {
      object: 'database',
      id,
      ...this.#stamp(),
      title: richText(title),
      description: [],
      icon: null,
      cover: null,
      parent: { type: 'page_id', page_id: parentPageId },
      properties: { Name: { id: 'title', name: 'Name', type: 'title', title: {} }, Status: { id: 'st', name: 'Status', type: 'select', select: { options: [{ id: 'o1', name: 'Open', color: 'green' }] } } },
      archived: false,
      in_trash: false,
      is_inline: false,
      url: `https://www.notion.so/${id.replace(/-/g, '')}`,
    };
    this.databases.push(database);
    this.#append(parentPageId, [{ type: 'child_database', child_database: { title } }], id);
    return database;
  }

  addRow(databaseId: string, name: string): Json {
    return this.addPage(name, { type: 'database_id', database_id: databaseId }, {
      Name: { id: 'title', type: 'title', title: richText(name) },
      Status: { id: 'st', type: 'select', select: { id: 'o1', name: 'Open', color: 'green' } },
    });
  }

  /** Appends paragraph blocks (or the blocks given) to a page or block; the page counts as edited. */
  addBlocks(parentId: string, blocks: (string | Json)[]): Json[] {
    return this.#append(parentId, blocks.map((b) => (typeof b === 'string' ? { type: 'paragraph', paragraph: { rich_text: richText(b), color: 'default' } } : b)));
  }

  addComment(pageId: string, text: string): Json {
    const comment = { object: 'comment', id: randomUUID(), parent: { type: 'page_id', page_id: pageId }, discussion_id: randomUUID(), ...this.#stamp(), created_by: { object: 'user', id: this.bot.id }, rich_text: richText(text) };
    this.comments.push(comment);
    return comment;
  }

  addUser(name: string): Json {
    const user = { object: 'user', id: randomUUID(), type: 'person', name, avatar_url: null, person: { email: `${name.toLowerCase()}@example.com` } };
    this.users.push(user);
    return user;
  }

  /** An edit in the editor: the page's last_edited_time moves (to the minute). */
  touch(page: Json, patch: Json = {}): Json {
    return Object.assign(page, patch, { last_edited_time: minute(this.now()) });
  }

  /** The block tree under a page or block, without Notion's bookkeeping: what a restore is compared by. */
  tree(id: string): Json[] {
    return (this.children.get(id) ?? []).map((block) => ({ type: block.type, [block.type]: block[block.type], ...(block.has_children ? { children: this.tree(block.id) } : {}) }));
  }

  #append(parentId: string, blocks: Json[], forcedId?: string): Json[] {
    const list = this.children.get(parentId);
    if (!list) throw new Error(`no fake page or block ${parentId}`);
    const parentBlock = this.#findBlock(parentId);
    const created = blocks.map((input) => {
      const { children, ...fields } = input;
      const id = forcedId ?? randomUUID();
      const block = {
        object: 'block',
        id,
        parent: parentBlock ? { type: 'block_id', block_id: parentId } : { type: 'page_id', page_id: parentId },
        ...this.#stamp(),
        created_by: { object: 'user', id: this.bot.id },
        last_edited_by: { object: 'user', id: this.bot.id },
        has_children: false,
        archived: false,
        in_trash: false,
        ...fields,
      };
      list.push(block);
      this.children.set(id, this.children.get(id) ?? []);
      if (Array.isArray(children) && children.length) this.#append(id, children);
      return block;
    });
    if (parentBlock) parentBlock.has_children = list.length > 0;
    const page = this.#pageOf(parentId);
    if (page) page.last_edited_time = minute(this.now());
    return created;
  }

  #findBlock(id: string): Json | undefined {
    for (const list of this.children.values()) {
      const found = list.find((b) => b.id === id);
      if (found) return found;
    }
    return undefined;
  }

  #pageOf(id: string): Json | undefined {
    const page = this.pages.find((p) => p.id === id);
    if (page) return page;
    const block = this.#findBlock(id);
    return block ? this.#pageOf(block.parent.block_id ?? block.parent.page_id) : undefined;
  }

  #error(status: number, code: string, message: string): ErrorAnswer {
    return { status, body: { object: 'error', status, code, message, request_id: randomUUID() } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { ...this.#error(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.'), headers: { 'retry-after': '1' } };
    if (status === 401) return this.#error(401, 'unauthorized', 'API token is invalid.');
    if (status === 409) return this.#error(409, 'conflict_error', 'Conflict occurred while saving. Please try again.');
    if (status === 502 || status === 503 || status === 504) return this.#error(status, 'service_unavailable', 'Notion is unavailable, please try again later.');
    if (status >= 500) return this.#error(status, 'internal_server_error', 'Unexpected error occurred.');
    return this.#error(status, 'validation_error', 'Invalid request.');
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const send = (answer: ErrorAnswer | { status: number; body: unknown }): undefined => {
      this.answer(request, res, answer.status, answer.body, 'headers' in answer ? answer.headers : undefined);
    };
    const ok = (body: unknown) => send({ status: 200, body });
    const token = tokenOf(request);
    if (!token || !this.tokens.has(token)) return send(this.#error(401, 'unauthorized', 'API token is invalid.'));
    const now = this.now();
    const calls = (this.#calls.get(token) ?? []).filter((at) => at > now - 1000);
    if (calls.length >= this.perSecond) {
      const retryAfter = 1;
      request.retryAllowedAt = now + retryAfter * 1000;
      this.overLimit.push(request);
      return send({ ...this.#error(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.'), headers: { 'retry-after': String(retryAfter) } });
    }
    this.#calls.set(token, [...calls, now]);
    if (request.headers['notion-version'] !== NOTION_VERSION) {
      return send(this.#error(400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.'));
    }
    let body: Json = {};
    if (request.body) {
      try {
        body = JSON.parse(request.body);
      } catch {
        return send(this.#error(400, 'invalid_json', 'Error parsing JSON body.'));
      }
    }
    const parts = request.path.split('/').filter(Boolean);
    if (parts[0] !== 'v1') return send(this.#error(400, 'invalid_request_url', 'Invalid request URL.'));
    const route = `${request.method} ${parts.slice(1).map((p, i) => (i === 1 && p !== 'me' ? ':id' : p)).join('/')}`;
    const id = parts[2];
    const list = (all: Json[], from: { start_cursor?: unknown; page_size?: unknown }, type: string) => {
      const size = Math.min(100, this.maxPage[type] ?? 100, Number(from.page_size ?? 100));
      let offset = 0;
      if (from.start_cursor !== undefined && from.start_cursor !== null) {
        const index = all.findIndex((item) => item.id === from.start_cursor);
        if (index < 0) return send(this.#error(400, 'validation_error', 'body failed validation: start_cursor should be a valid cursor.'));
        offset = index;
      }
      const results = all.slice(offset, offset + size);
      const more = offset + size < all.length;
      return ok({ object: 'list', results, next_cursor: more ? all[offset + size].id : null, has_more: more, type, [type]: {} });
    };
    const query = (name: string) => request.query.get(name) ?? undefined;

    switch (route) {
      case 'GET users/me':
        return ok(this.bot);
      case 'POST search': {
        const kind = body.filter?.property === 'object' ? body.filter.value : undefined;
        if (kind !== undefined && kind !== 'page' && kind !== 'database') return send(this.#error(400, 'validation_error', 'body failed validation: body.filter.value should be `"page"` or `"database"`.'));
        let all = [...(kind === 'database' ? [] : this.pages), ...(kind === 'page' ? [] : this.databases)].filter((o) => !o.in_trash);
        const direction = body.sort?.direction === 'ascending' ? 1 : -1;
        all = all.sort((a, b) => direction * a.last_edited_time.localeCompare(b.last_edited_time) || a.id.localeCompare(b.id));
        return list(all, body, 'page_or_database');
      }
      case 'GET blocks/:id/children': {
        const children = this.children.get(id);
        if (!children) return send(this.#error(404, 'object_not_found', `Could not find block with ID: ${id}. Make sure the relevant pages and databases are shared with your integration.`));
        return list(children, { start_cursor: query('start_cursor'), page_size: query('page_size') }, 'block');
      }
      case 'PATCH blocks/:id/children': {
        if (!this.children.has(id)) return send(this.#error(404, 'object_not_found', `Could not find block with ID: ${id}.`));
        const blocks = body.children;
        if (!Array.isArray(blocks) || blocks.length > 100) return send(this.#error(400, 'validation_error', 'body failed validation: body.children.length should be ≤ `100`.'));
        const problem = blocks.map(checkBlock).find(Boolean);
        if (problem) return send(this.#error(400, 'validation_error', problem));
        return ok({ object: 'list', results: this.#append(id, blocks), next_cursor: null, has_more: false, type: 'block', block: {} });
      }
      case 'GET databases/:id': {
        const database = this.databases.find((d) => d.id === id);
        return database ? ok(database) : send(this.#error(404, 'object_not_found', `Could not find database with ID: ${id}.`));
      }
      case 'POST databases/:id/query': {
        if (!this.databases.some((d) => d.id === id)) return send(this.#error(404, 'object_not_found', `Could not find database with ID: ${id}.`));
        let rows = this.pages.filter((p) => p.parent.database_id === id && !p.in_trash);
        const filter = body.filter;
        if (filter?.timestamp === 'last_edited_time') {
          const after = filter.last_edited_time?.on_or_after;
          if (typeof after !== 'string' || Number.isNaN(Date.parse(after))) return send(this.#error(400, 'validation_error', 'body failed validation: body.filter.last_edited_time.on_or_after should be a valid ISO 8601 date string.'));
          rows = rows.filter((r) => Date.parse(r.last_edited_time) >= Date.parse(after));
        }
        return list(rows, body, 'page_or_database');
      }
      case 'GET comments': {
        if (!this.readComments) return send(this.#error(403, 'restricted_resource', 'Insufficient permissions for this endpoint.'));
        const blockId = query('block_id');
        if (!blockId) return send(this.#error(400, 'validation_error', 'block_id should be defined, instead was `undefined`.'));
        return list(this.comments.filter((c) => c.parent.page_id === blockId || c.parent.block_id === blockId), { start_cursor: query('start_cursor'), page_size: query('page_size') }, 'comment');
      }
      case 'GET users':
        return list([this.bot, ...this.users], { start_cursor: query('start_cursor'), page_size: query('page_size') }, 'user');
      case 'POST pages': {
        const parent = body.parent ?? {};
        const parentId = parent.page_id ?? parent.database_id;
        if (parent.type === 'workspace' || parent.workspace === true) {
          // allowed for public integrations
        } else if (!parentId || !(this.pages.some((p) => p.id === parentId) || this.databases.some((d) => d.id === parentId))) {
          return send(this.#error(404, 'object_not_found', `Could not find page with ID: ${parentId}. Make sure the relevant pages and databases are shared with your integration.`));
        }
        if (!body.properties || typeof body.properties !== 'object') return send(this.#error(400, 'validation_error', 'body failed validation: body.properties should be defined.'));
        const children = body.children ?? [];
        const problem = (Array.isArray(children) ? children : []).map(checkBlock).find(Boolean);
        if (problem) return send(this.#error(400, 'validation_error', problem));
        const normalized = parent.page_id ? { type: 'page_id', page_id: parent.page_id } : parent.database_id ? { type: 'database_id', database_id: parent.database_id } : { type: 'workspace', workspace: true };
        const page = this.addPage('', normalized, body.properties);
        if (body.icon !== undefined) page.icon = body.icon;
        if (body.cover !== undefined) page.cover = body.cover;
        if (children.length) this.#append(page.id, children);
        return ok(page);
      }
      default:
        return send(this.#error(400, 'invalid_request_url', 'Invalid request URL.'));
    }
  }
}

/** What Notion refuses in a block it is asked to create. */
function checkBlock(block: Json): string | undefined {
  if (!block || typeof block.type !== 'string' || !(block.type in block)) return 'body failed validation: a block needs its type and a value of that type.';
  for (const field of ['id', 'created_time', 'last_edited_time', 'created_by', 'last_edited_by', 'has_children', 'parent']) {
    if (field in block) return `body failed validation: ${field} should be not present.`;
  }
  if (['child_page', 'child_database', 'unsupported'].includes(block.type)) return `body failed validation: ${block.type} blocks cannot be created here.`;
  return undefined;
}
