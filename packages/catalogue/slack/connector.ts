/**
 * Slack (Web API): channels, messages with their threads, members and files of the workspace the
 * token was installed in. Lists page with `cursor` / `response_metadata.next_cursor` (files.list
 * with `page` / `paging.pages`); each method is paced to its documented tier (Tier 2: 20 a minute,
 * Tier 3: 50 a minute) and a 429 waits its `Retry-After`. Slack answers most errors with HTTP 200
 * and `{"ok": false, "error": …}`: an expired or refused token is refreshed once, then is a CONFIG
 * failure. Messages are incremental per channel with `oldest` (the newest `ts` seen; Slack treats
 * it as exclusive), files with `ts_from` on their creation time; file contents are streamed from
 * `url_private_download` with the same token.
 */
import {
  AuthError,
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  HighWaterMark,
  jsonContent,
  PlatformError,
  type QueryValue,
  type RateSpec,
} from '../sdk/index.ts';

export const SLACK_API_URL = 'https://slack.com/api';
/** Where `url_private` files live; it takes the API token. */
const SLACK_FILES_ORIGIN = 'https://files.slack.com';

const MINUTE = 60_000;
/** Documented tiers of the methods the connector calls, per workspace. */
const TIERS: Record<string, number> = {
  'conversations.list': 20,
  'users.list': 20,
  'files.list': 20,
  'conversations.history': 50,
  'conversations.replies': 50,
};
const PAGE = 200;

/** Errors that say the token itself is no good; the first two may heal with a refresh. */
const REFRESHABLE = new Set(['token_expired', 'invalid_auth']);
const AUTH_ERRORS = new Set(['not_authed', 'invalid_auth', 'token_expired', 'token_revoked', 'account_inactive', 'not_allowed_token_type']);

interface SlackAnswer {
  ok: boolean;
  error?: string;
  needed?: string;
  response_metadata?: { next_cursor?: string };
  [key: string]: unknown;
}

interface Channel {
  id: string;
  name: string;
  is_private?: boolean;
  is_archived?: boolean;
  is_member?: boolean;
  created?: number;
  updated?: number;
}

interface Message {
  type: string;
  ts: string;
  user?: string;
  text?: string;
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  edited?: { ts: string };
  [key: string]: unknown;
}

interface Member {
  id: string;
  name: string;
  deleted?: boolean;
  is_bot?: boolean;
  updated?: number;
  profile?: { real_name?: string; email?: string };
}

interface SlackFile {
  id: string;
  name?: string;
  title?: string;
  created: number;
  timestamp?: number;
  mimetype?: string;
  filetype?: string;
  size?: number;
  user?: string;
  channels?: string[];
  url_private?: string;
  url_private_download?: string;
  is_external?: boolean;
  mode?: string;
}

export function createSlackConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'slack',
    name: 'Slack',
    authType: 'oauth2',
    resources: [
      { name: 'channels', incremental: false, description: 'Public and private channels the app was added to, archived ones included.' },
      {
        name: 'messages',
        incremental: true,
        cursor: 'oldest (newest message ts seen), per channel; replies to older threads and edits at the weekly full run',
        description: 'Channel history, each message with its thread replies.',
      },
      { name: 'users', incremental: false, description: 'Members of the workspace with their profiles, deactivated ones included.' },
      { name: 'files', incremental: true, cursor: 'ts_from (file creation time)', binaryContent: true, description: 'Files shared in the workspace, with their contents.' },
    ],
    http: {
      platform: 'Slack',
      baseUrl: options.baseUrl ?? SLACK_API_URL,
      credentialOrigins: [SLACK_FILES_ORIGIN],
      rate: ({ url }) => tierOf(url),
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'channels':
          return fetchChannels(ctx);
        case 'messages':
          return fetchMessages(ctx);
        case 'users':
          return fetchUsers(ctx);
        case 'files':
          return fetchFiles(ctx);
        default:
          throw new ConfigError(`Slack has no resource ${resource}`);
      }
    },
  };
}

function tierOf(url: URL): RateSpec | undefined {
  const method = url.pathname.split('/').at(-1) ?? '';
  const limit = TIERS[method];
  return limit === undefined ? undefined : { key: method, limit, intervalMs: MINUTE };
}

/** One Web API call: an `ok: false` answer becomes the failure it names. */
async function call(ctx: FetchContext, method: string, query: Record<string, QueryValue>): Promise<SlackAnswer> {
  let refreshed = false;
  for (;;) {
    const { data } = await ctx.http.json<SlackAnswer>(method, { query });
    if (data?.ok === true) return data;
    const error = typeof data?.error === 'string' ? data.error : 'unknown_error';
    if (REFRESHABLE.has(error) && !refreshed) {
      refreshed = true;
      ctx.log.info({ method, error }, 'Slack refused the token, refreshing once');
      await ctx.refreshCredentials();
      continue;
    }
    if (AUTH_ERRORS.has(error)) throw new AuthError(`Slack refused the token (${error}): reconnect the workspace`, { status: 200, platformCode: error });
    if (error === 'missing_scope') throw new ConfigError(`Slack: the app lacks the scope ${data?.needed ?? '(unnamed)'} for ${method}: reinstall it with that scope`, { status: 200, platformCode: error });
    throw new PlatformError(`Slack answered ${error} to ${method}`, { status: 200, platformCode: error });
  }
}

/** Every page of a cursor-paged method. */
async function* pages(ctx: FetchContext, method: string, query: Record<string, QueryValue>): AsyncGenerator<SlackAnswer, void, undefined> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const answer = await call(ctx, method, { ...query, limit: PAGE, cursor });
    yield answer;
    const next = answer.response_metadata?.next_cursor || undefined;
    if (!next) return;
    if (seen.has(next)) throw new PlatformError(`Slack: ${method} pagination loops back on itself`);
    seen.add(next);
    cursor = next;
  }
}

async function listChannels(ctx: FetchContext): Promise<Channel[]> {
  const channels: Channel[] = [];
  for await (const page of pages(ctx, 'conversations.list', { types: 'public_channel,private_channel', exclude_archived: false })) {
    channels.push(...((page.channels as Channel[] | undefined) ?? []));
  }
  return channels;
}

async function* fetchChannels(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  for (const channel of await listChannels(ctx)) {
    yield {
      id: channel.id,
      path: `channels/${safe(channel.name)}.json`,
      updatedAt: channel.updated ? new Date(channel.updated).toISOString() : undefined,
      changeMarker: channel.updated === undefined ? undefined : String(channel.updated),
      contentType: 'application/json',
      metadata: { name: channel.name, private: channel.is_private ?? false, archived: channel.is_archived ?? false },
      content: jsonContent(channel),
    };
  }
  return undefined;
}

async function* fetchMessages(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readChannelCursor(ctx);
  const next: Record<string, string> = { ...previous };
  for (const channel of await listChannels(ctx)) {
    if (channel.is_member === false) {
      ctx.log.info({ channel: channel.id }, 'the app is not in this channel: its history is not readable');
      continue;
    }
    const oldest = previous[channel.id];
    let newest = oldest;
    for await (const page of pages(ctx, 'conversations.history', { channel: channel.id, oldest })) {
      for (const message of (page.messages as Message[] | undefined) ?? []) {
        if (oldest !== undefined && compareTs(message.ts, oldest) <= 0) continue;
        if (newest === undefined || compareTs(message.ts, newest) > 0) newest = message.ts;
        const replies = message.reply_count && message.thread_ts === message.ts ? await threadReplies(ctx, channel.id, message.ts) : [];
        const body = replies.length ? { ...message, replies } : message;
        yield {
          id: `${channel.id}/${message.ts}`,
          path: `messages/${safe(channel.name)}/${message.ts}.json`,
          updatedAt: tsToIso(message.edited?.ts ?? message.latest_reply ?? message.ts),
          contentType: 'application/json',
          metadata: { channel: channel.id, channelName: channel.name, user: message.user ?? null, ts: message.ts, replies: replies.length },
          content: jsonContent(body),
        };
      }
    }
    if (newest !== undefined) next[channel.id] = newest;
  }
  return { channels: next };
}

async function threadReplies(ctx: FetchContext, channel: string, ts: string): Promise<Message[]> {
  const replies: Message[] = [];
  for await (const page of pages(ctx, 'conversations.replies', { channel, ts })) {
    for (const reply of (page.messages as Message[] | undefined) ?? []) if (reply.ts !== ts) replies.push(reply);
  }
  return replies;
}

async function* fetchUsers(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  for await (const page of pages(ctx, 'users.list', {})) {
    for (const member of (page.members as Member[] | undefined) ?? []) {
      yield {
        id: member.id,
        path: `users/${safe(member.name)}.json`,
        updatedAt: member.updated ? new Date(member.updated * 1000).toISOString() : undefined,
        changeMarker: member.updated === undefined ? undefined : String(member.updated),
        contentType: 'application/json',
        metadata: { name: member.name, realName: member.profile?.real_name ?? null, deleted: member.deleted ?? false, bot: member.is_bot ?? false },
        content: jsonContent(member),
      };
    }
  }
  return undefined;
}

async function* fetchFiles(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = HighWaterMark.read<number>(ctx.cursor, 'number');
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<number>(previous);
  for (let page = 1; ; page++) {
    const answer = await call(ctx, 'files.list', { count: 100, page, ts_from: mark.since });
    const files = (answer.files as SlackFile[] | undefined) ?? [];
    for (const file of files) {
      if (mark.seenBefore(file.created, file.id)) continue;
      mark.see(file.created, file.id);
      const item = fileItem(ctx, file);
      if (item) yield item;
    }
    const paging = answer.paging as { pages?: number } | undefined;
    if (files.length === 0 || page >= (paging?.pages ?? page)) break;
  }
  return mark.state() ?? null;
}

function fileItem(ctx: FetchContext, file: SlackFile): ConnectorItem | undefined {
  const url = file.url_private_download ?? file.url_private;
  if (!url || file.is_external || file.mode === 'tombstone') {
    ctx.log.debug({ fileId: file.id }, 'no content Slack holds, skipped');
    return undefined;
  }
  return {
    id: file.id,
    path: `files/${file.id}-${safe(file.name ?? file.title ?? 'file')}`,
    updatedAt: new Date((file.timestamp ?? file.created) * 1000).toISOString(),
    size: file.size,
    contentType: file.mimetype,
    metadata: { name: file.name ?? null, title: file.title ?? null, filetype: file.filetype ?? null, user: file.user ?? null, channels: file.channels ?? [], created: file.created },
    content: () => ctx.http.stream(url, { resumable: true }),
  };
}

function readChannelCursor(ctx: FetchContext): Record<string, string> {
  const channels = (ctx.cursor as { channels?: unknown } | undefined)?.channels;
  const result: Record<string, string> = {};
  if (channels && typeof channels === 'object') {
    for (const [id, ts] of Object.entries(channels)) if (typeof ts === 'string' && /^\d+\.\d+$/.test(ts)) result[id] = ts;
  } else if (ctx.cursor !== undefined) {
    ctx.log.warn('unreadable cursor, running in full');
  }
  return result;
}

/** Slack timestamps are "seconds.micros" strings: compare them as numbers, exactly. */
function compareTs(a: string, b: string): number {
  const [as, au = ''] = a.split('.');
  const [bs, bu = ''] = b.split('.');
  return Number(as) - Number(bs) || Number(au.padEnd(6, '0')) - Number(bu.padEnd(6, '0'));
}

function tsToIso(ts: string): string {
  return new Date(Math.floor(Number(ts) * 1000)).toISOString();
}

function safe(segment: string): string {
  return segment.replace(/[/\\]/g, '_') || '(unnamed)';
}
