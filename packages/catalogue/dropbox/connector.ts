/**
 * Dropbox (API v2): every file of the account with its content, and its shared links. Files are
 * listed with `files/list_folder` (recursive) and `files/list_folder/continue` while `has_more`;
 * the last cursor is the incremental cursor: the next run continues from it and gets only what
 * changed (Dropbox reports deletions too; they settle at the weekly full run, the engine keeping
 * no deletions between). A cursor Dropbox no longer accepts (409 `reset`) makes a full run.
 * Contents are streamed from the content host's `files/download`, pinned to the listed `rev`,
 * resumed with `Range` when the connection drops; `content_hash` is the change marker.
 *
 * Dropbox publishes no rate numbers: a 429 `too_many_requests` waits its `Retry-After`. Errors
 * are `{"error_summary": …, "error": {".tag": …}}`; an expired short-lived token (401
 * `expired_access_token`) is refreshed once.
 */
import {
  ConfigError,
  ConnectorError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  jsonContent,
  PlatformError,
} from '../sdk/index.ts';

export const DROPBOX_API_URL = 'https://api.dropboxapi.com/2';
export const DROPBOX_CONTENT_URL = 'https://content.dropboxapi.com/2';

const LIMIT = 2000;

interface Entry {
  '.tag': 'file' | 'folder' | 'deleted';
  id?: string;
  name: string;
  path_lower?: string;
  path_display?: string;
  server_modified?: string;
  client_modified?: string;
  rev?: string;
  size?: number;
  content_hash?: string;
  is_downloadable?: boolean;
}

interface ListAnswer {
  entries: Entry[];
  cursor: string;
  has_more: boolean;
}

/** `contentUrl`: the content host; a deployment's `baseUrl` (a proxy, a fake) serves both unless it is named. */
export function createDropboxConnector(options: { baseUrl?: string; contentUrl?: string } = {}): Connector {
  const baseUrl = options.baseUrl ?? DROPBOX_API_URL;
  const contentUrl = (options.contentUrl ?? (options.baseUrl ? options.baseUrl : DROPBOX_CONTENT_URL)).replace(/\/$/, '');
  return {
    slug: 'dropbox',
    name: 'Dropbox',
    authType: 'oauth2',
    resources: [
      { name: 'files', incremental: true, cursor: 'list_folder/continue cursor', binaryContent: true, restorable: false, description: 'Every file with its content, in its folder.' },
      { name: 'shared_links', incremental: false, restorable: false, description: 'Shared links, with who can open them.' },
    ],
    http: {
      platform: 'Dropbox',
      baseUrl,
      credentialOrigins: [new URL(contentUrl).origin],
      errorMessage: (body) => {
        const summary = (body as { error_summary?: unknown } | undefined)?.error_summary;
        return typeof summary === 'string' ? summary : typeof body === 'string' ? body.slice(0, 500) : undefined;
      },
      errorCode: (body) => {
        const tag = (body as { error?: { '.tag'?: unknown } } | undefined)?.error?.['.tag'];
        return typeof tag === 'string' ? tag : undefined;
      },
    },
    fetch(resource, ctx) {
      if (resource === 'files') return fetchFiles(ctx, contentUrl);
      if (resource === 'shared_links') return fetchSharedLinks(ctx);
      throw new ConfigError(`Dropbox has no resource ${resource}`);
    },
  };
}

/** An RPC call: a POST of JSON; listing changes nothing, so it may be sent again. */
async function rpc<T>(ctx: FetchContext, name: string, body: unknown): Promise<T> {
  const { data } = await ctx.http.json<T>(name, { method: 'POST', json: body, idempotent: true });
  return data;
}

async function* fetchFiles(ctx: FetchContext, contentUrl: string): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = (ctx.cursor as { cursor?: unknown } | undefined)?.cursor;
  if (ctx.cursor !== undefined && typeof previous !== 'string') ctx.log.warn('unreadable cursor, running in full');
  let answer: ListAnswer;
  try {
    answer =
      typeof previous === 'string'
        ? await rpc<ListAnswer>(ctx, 'files/list_folder/continue', { cursor: previous })
        : await rpc<ListAnswer>(ctx, 'files/list_folder', { path: '', recursive: true, include_deleted: false, include_non_downloadable_files: true, limit: LIMIT });
  } catch (error) {
    if (typeof previous === 'string' && error instanceof ConnectorError && error.platformCode === 'reset') {
      ctx.log.warn('Dropbox reset the cursor: running in full');
      return yield* fetchFiles({ ...ctx, cursor: undefined }, contentUrl);
    }
    throw error;
  }
  const seen = new Set<string>();
  for (;;) {
    if (!Array.isArray(answer?.entries) || typeof answer.cursor !== 'string') throw new PlatformError('Dropbox: list_folder answered without entries and cursor');
    for (const entry of answer.entries) {
      if (entry['.tag'] === 'deleted') {
        ctx.log.debug({ path: entry.path_lower }, 'deleted at Dropbox; dropped at the next full run');
        continue;
      }
      if (entry['.tag'] !== 'file' || !entry.id || seen.has(entry.id)) continue;
      seen.add(entry.id);
      if (entry.is_downloadable === false) {
        ctx.log.info({ path: entry.path_display }, 'not downloadable (a cloud document Dropbox only exports), skipped');
        continue;
      }
      yield fileItem(ctx, contentUrl, entry);
    }
    if (!answer.has_more) return { cursor: answer.cursor };
    answer = await rpc<ListAnswer>(ctx, 'files/list_folder/continue', { cursor: answer.cursor });
  }
}

function fileItem(ctx: FetchContext, contentUrl: string, entry: Entry): ConnectorItem {
  const display = (entry.path_display ?? entry.path_lower ?? entry.name).replace(/^\/+/, '');
  // Dropbox-API-Arg is an HTTP header: anything beyond ASCII goes as a JSON \u escape.
  const arg = JSON.stringify({ path: entry.rev ? `rev:${entry.rev}` : entry.id }).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return {
    id: entry.id!,
    path: `files/${display}`,
    updatedAt: entry.server_modified,
    changeMarker: entry.content_hash,
    size: entry.size,
    contentType: 'application/octet-stream',
    metadata: { path: entry.path_display ?? null, rev: entry.rev ?? null, contentHash: entry.content_hash ?? null, clientModified: entry.client_modified ?? null },
    content: () => ctx.http.stream(`${contentUrl}/files/download`, { method: 'POST', headers: { 'dropbox-api-arg': arg }, idempotent: true, resumable: true }),
  };
}

async function* fetchSharedLinks(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const answer = await rpc<{ links?: (Record<string, unknown> & { id?: string; url: string; name?: string; path_lower?: string })[]; has_more?: boolean; cursor?: string }>(ctx, 'sharing/list_shared_links', cursor ? { cursor } : {});
    for (const link of answer?.links ?? []) {
      const id = link.id ?? link.url;
      yield {
        id: `${id} ${link.url}`,
        path: `shared_links/${(link.path_lower ?? link.name ?? 'link').replace(/^\/+/, '').replace(/[/\\]/g, '_')}.json`,
        contentType: 'application/json',
        metadata: { url: link.url, path: link.path_lower ?? null },
        content: jsonContent(link),
      };
    }
    if (!answer?.has_more) return undefined;
    if (!answer.cursor || seen.has(answer.cursor)) throw new PlatformError('Dropbox: list_shared_links has more but no new cursor');
    seen.add(answer.cursor);
    cursor = answer.cursor;
  }
}
