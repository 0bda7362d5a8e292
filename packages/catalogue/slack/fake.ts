/**
 * A fake of the Slack Web API under /api: conversations.list, conversations.history (newest first,
 * `oldest`/`latest` exclusive, `has_more`), conversations.replies (the parent first),
 * users.list (all cursor-paged with `limit` and `response_metadata.next_cursor`), files.list
 * (`count`/`page`, `paging`, `ts_from`/`ts_to` inclusive) and file downloads from
 * `url_private_download` with the bearer token. Errors as Slack sends them: HTTP 200 with
 * `{"ok": false, "error": …}` (`invalid_auth`, `token_expired`, `missing_scope`,
 * `channel_not_found`, `not_in_channel`, `invalid_cursor`), and 429 `ratelimited` with
 * `Retry-After` once a method's tier (per token, per minute) is spent; `overLimit` counts those.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export const SLACK_TIERS: Record<string, number> = {
  'conversations.list': 20,
  'users.list': 20,
  'files.list': 20,
  'conversations.history': 50,
  'conversations.replies': 50,
};

export interface FakeChannel {
  id: string;
  name: string;
  is_channel: true;
  is_private: boolean;
  is_archived: boolean;
  is_member: boolean;
  created: number;
  updated: number;
  topic: { value: string };
}

export interface FakeMessage {
  type: 'message';
  user: string;
  text: string;
  ts: string;
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  edited?: { user: string; ts: string };
}

export interface FakeSlackFile {
  id: string;
  name: string;
  title: string;
  created: number;
  timestamp: number;
  mimetype: string;
  filetype: string;
  size: number;
  user: string;
  channels: string[];
  url_private: string;
  url_private_download: string;
  /** Not a Slack field: where the fake's bytes come from. */
  seed: string;
}

export class FakeSlack extends FakeServer {
  readonly tokens = new Set<string>(['xoxe.xoxb-valid']);
  /** Tokens Slack no longer takes because they expired (rotation): `token_expired`. */
  readonly expired = new Set<string>(['xoxe.xoxb-expired']);
  readonly teamId = 'T0FAKE001';
  readonly channels: FakeChannel[] = [];
  readonly history = new Map<string, FakeMessage[]>();
  readonly replies = new Map<string, FakeMessage[]>();
  readonly members: Record<string, unknown>[] = [];
  readonly files: FakeSlackFile[] = [];
  /** Most items a list method hands out per page, whatever `limit` asks (Slack may return fewer). */
  readonly maxPage: Record<string, number> = {};
  /** Requests that came after a method's tier was spent (each answered 429). */
  readonly overLimit: RecordedRequest[] = [];
  #calls = new Map<string, number[]>();
  #seq = 0;
  #tsSeq = 0;

  addChannel(name: string, options: { private?: boolean; member?: boolean; archived?: boolean } = {}): FakeChannel {
    const now = this.now();
    const channel: FakeChannel = {
      id: `C${String(++this.#seq).padStart(8, '0')}`,
      name,
      is_channel: true,
      is_private: options.private ?? false,
      is_archived: options.archived ?? false,
      is_member: options.member ?? true,
      created: Math.floor(now / 1000),
      updated: now,
      topic: { value: `All about ${name}` },
    };
    this.channels.push(channel);
    this.history.set(channel.id, []);
    return channel;
  }

  /** A new message, `ts` strictly after every earlier one. */
  post(channelId: string, text: string, user = 'U00000001'): FakeMessage {
    const message: FakeMessage = { type: 'message', user, text, ts: this.#nextTs() };
    this.history.get(channelId)!.push(message);
    return message;
  }

  reply(channelId: string, parent: FakeMessage, text: string, user = 'U00000002'): FakeMessage {
    const reply: FakeMessage = { type: 'message', user, text, ts: this.#nextTs(), thread_ts: parent.ts };
    parent.thread_ts = parent.ts;
    parent.reply_count = (parent.reply_count ?? 0) + 1;
    parent.latest_reply = reply.ts;
    const key = `${channelId}/${parent.ts}`;
    this.replies.set(key, [...(this.replies.get(key) ?? []), reply]);
    return reply;
  }

  addMember(name: string): Record<string, unknown> {
    const member = { id: `U${String(++this.#seq).padStart(8, '0')}`, team_id: this.teamId, name, deleted: false, is_bot: false, updated: Math.floor(this.now() / 1000), profile: { real_name: name, email: `${name}@example.com` } };
    this.members.push(member);
    return member;
  }

  addFile(name: string, options: { size?: number; channel?: string; mimetype?: string } = {}): FakeSlackFile {
    const id = `F${String(++this.#seq).padStart(8, '0')}`;
    const at = Math.floor(this.now() / 1000);
    const path = `/files-pri/${this.teamId}-${id}/${encodeURIComponent(name)}`;
    const file: FakeSlackFile = {
      id,
      name,
      title: name,
      created: at,
      timestamp: at,
      mimetype: options.mimetype ?? 'application/octet-stream',
      filetype: name.split('.').at(-1) ?? 'binary',
      size: options.size ?? 1000,
      user: 'U00000001',
      channels: options.channel ? [options.channel] : [],
      url_private: `${this.url}${path}`,
      url_private_download: `${this.url}/files-pri/${this.teamId}-${id}/download/${encodeURIComponent(name)}`,
      seed: `slack-${id}`,
    };
    this.files.push(file);
    return file;
  }

  /** Forgets the tier windows (a test that starts from a fresh minute). */
  resetLimits(): void {
    this.#calls.clear();
    this.overLimit.length = 0;
  }

  #nextTs(): string {
    const seconds = Math.floor(this.now() / 1000);
    return `${seconds}.${String(++this.#tsSeq).padStart(6, '0')}`;
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { status, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } };
    if (status >= 500) return { status, body: 'upstream request timeout' };
    return { status, body: { ok: false, error: 'invalid_request' } };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const token = tokenOf(request);
    if (request.path.startsWith('/files-pri/')) return this.#download(request, res, token);
    const method = /^\/api\/([\w.]+)$/.exec(request.path)?.[1];
    if (!method) {
      this.answer(request, res, 404, 'Not Found');
      return;
    }
    const tier = SLACK_TIERS[method];
    if (tier !== undefined && token) {
      const key = `${token}|${method}`;
      const now = this.now();
      const calls = (this.#calls.get(key) ?? []).filter((at) => at > now - 60_000);
      if (calls.length >= tier) {
        const retryAfter = Math.max(1, Math.ceil((calls[0] + 60_000 - now) / 1000));
        request.retryAllowedAt = now + retryAfter * 1000;
        this.overLimit.push(request);
        this.answer(request, res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
        return;
      }
      calls.push(now);
      this.#calls.set(key, calls);
    }
    if (!token) return this.#ok(request, res, { ok: false, error: 'not_authed' });
    if (this.expired.has(token)) return this.#ok(request, res, { ok: false, error: 'token_expired' });
    if (!this.tokens.has(token)) return this.#ok(request, res, { ok: false, error: 'invalid_auth' });
    const q = request.query;
    switch (method) {
      case 'auth.test':
        return this.#ok(request, res, { ok: true, url: 'https://fake.slack.com/', team: 'Fake Team', user: 'listbackup', team_id: this.teamId, user_id: 'U0BOT0001', bot_id: 'B0BOT0001' });
      case 'conversations.list': {
        const types = (q.get('types') ?? 'public_channel').split(',');
        const excludeArchived = q.get('exclude_archived') === 'true';
        const all = this.channels.filter((c) => types.includes(c.is_private ? 'private_channel' : 'public_channel') && !(excludeArchived && c.is_archived));
        return this.#page(request, res, method, 'channels', all);
      }
      case 'conversations.history': {
        const channel = this.channels.find((c) => c.id === q.get('channel'));
        if (!channel) return this.#ok(request, res, { ok: false, error: 'channel_not_found' });
        if (!channel.is_member) return this.#ok(request, res, { ok: false, error: 'not_in_channel' });
        const oldest = q.get('oldest');
        const latest = q.get('latest');
        const inclusive = q.get('inclusive') === 'true';
        const messages = [...this.history.get(channel.id)!]
          .filter((m) => !oldest || (inclusive ? Number(m.ts) >= Number(oldest) : Number(m.ts) > Number(oldest)))
          .filter((m) => !latest || (inclusive ? Number(m.ts) <= Number(latest) : Number(m.ts) < Number(latest)))
          .reverse();
        return this.#page(request, res, method, 'messages', messages, { pin_count: 0 });
      }
      case 'conversations.replies': {
        const channel = this.channels.find((c) => c.id === q.get('channel'));
        if (!channel) return this.#ok(request, res, { ok: false, error: 'channel_not_found' });
        const parent = this.history.get(channel.id)!.find((m) => m.ts === q.get('ts'));
        if (!parent) return this.#ok(request, res, { ok: false, error: 'thread_not_found' });
        return this.#page(request, res, method, 'messages', [parent, ...(this.replies.get(`${channel.id}/${parent.ts}`) ?? [])]);
      }
      case 'users.list':
        return this.#page(request, res, method, 'members', this.members);
      case 'files.list': {
        const count = Math.min(1000, Number(q.get('count') ?? 100));
        const page = Math.max(1, Number(q.get('page') ?? 1));
        const from = Number(q.get('ts_from') ?? 0);
        const to = q.get('ts_to') ? Number(q.get('ts_to')) : Number.POSITIVE_INFINITY;
        const all = this.files.filter((f) => f.created >= from && f.created <= to).sort((a, b) => b.created - a.created);
        const pages = Math.max(1, Math.ceil(all.length / count));
        const files = all.slice((page - 1) * count, page * count).map(({ seed: _seed, ...f }) => f);
        return this.#ok(request, res, { ok: true, files, paging: { count, total: all.length, page, pages } });
      }
      default:
        return this.#ok(request, res, { ok: false, error: 'unknown_method' });
    }
  }

  #page(request: RecordedRequest, res: ServerResponse, method: string, field: string, all: unknown[], extra: Record<string, unknown> = {}): undefined {
    const limit = Math.min(Number(request.query.get('limit') ?? 100), 999, this.maxPage[method] ?? 999);
    let offset = 0;
    const cursor = request.query.get('cursor');
    if (cursor) {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
      if (!decoded) return this.#ok(request, res, { ok: false, error: 'invalid_cursor' });
      offset = Number(decoded[1]);
    }
    const items = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    const next = more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '';
    const body: Record<string, unknown> = { ok: true, [field]: items, ...extra, response_metadata: { next_cursor: next } };
    if (method === 'conversations.history' || method === 'conversations.replies') body.has_more = more;
    this.#ok(request, res, body);
  }

  #ok(request: RecordedRequest, res: ServerResponse, body: unknown): undefined {
    this.answer(request, res, 200, body, { 'x-slack-req-id': randomBytes(8).toString('hex') });
  }

  #download(request: RecordedRequest, res: ServerResponse, token: string | undefined): undefined {
    if (!token || !this.tokens.has(token)) {
      this.answer(request, res, 403, 'Forbidden');
      return;
    }
    const id = /^\/files-pri\/[A-Z0-9]+-(F\w+)\//.exec(request.path)?.[1];
    const file = this.files.find((f) => f.id === id);
    if (!file) {
      this.answer(request, res, 404, 'Not Found');
      return;
    }
    request.status = 200;
    res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.size), date: new Date(this.now()).toUTCString() });
    for (const piece of generatedBytes(file.seed, 0, file.size)) res.write(piece);
    res.end();
  }
}
