/**
 * Box (Content API 2.0): every file the user can reach with its content, in its folder, and the
 * collaborations on each folder.
 *
 * A full run takes the event stream's current position first (`GET /events?stream_position=now`),
 * then walks the folder tree from the root (`GET /folders/{id}/items`, marker-based paging with
 * `usemarker=true`, up to 1,000 entries a page). The position is the incremental cursor: the next
 * run reads the `changes` stream from it (`next_stream_position` until a page comes back empty),
 * reads each changed file again by id (its `path_collection` gives its folder) and walks each
 * changed folder again (a rename or a move changes the path of everything in it; what did not
 * change keeps its content by its `sha1`). Trashed items are left out; the weekly full run drops
 * them. Contents stream from `GET /files/{id}/content`, pinned to the listed file version, which
 * Box answers with a redirect to its download host; a dropped download resumes with `Range`.
 *
 * Pacing: 1,000 requests a minute per user, as Box documents; a 429 waits its `Retry-After`.
 * Errors are `{"type": "error", "status", "code", "message"}`; an expired token (401) is
 * refreshed once.
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

export const BOX_API_URL = 'https://api.box.com/2.0';

const PAGE = 1000;
const EVENTS_PAGE = 500;
const PER_MINUTE = 1000;
const ROOT = '0';
/** Folder events that change the path of what is inside (or bring a whole folder in). */
const FOLDER_CHANGES = new Set(['ITEM_CREATE', 'ITEM_COPY', 'ITEM_MOVE', 'ITEM_RENAME', 'ITEM_UNDELETE_VIA_TRASH']);
const FILE_FIELDS = 'type,id,name,size,sha1,etag,sequence_id,modified_at,content_modified_at,file_version,item_status,path_collection';

interface MiniItem {
  type: 'file' | 'folder' | 'web_link';
  id: string;
  name?: string;
  etag?: string | null;
}

interface BoxFile extends MiniItem {
  type: 'file';
  size?: number;
  sha1?: string;
  modified_at?: string;
  content_modified_at?: string;
  file_version?: { id: string; sha1?: string };
  item_status?: string;
  path_collection?: { entries: MiniItem[] };
}

interface BoxEvent {
  event_id?: string;
  event_type?: string;
  source?: (MiniItem & { item_status?: string }) | null;
}

export function createBoxConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'box',
    name: 'Box',
    authType: 'oauth2',
    resources: [
      { name: 'files', incremental: true, cursor: 'event stream position (changes stream)', binaryContent: true, restorable: false, description: 'Every file with its content, in its folder.' },
      { name: 'collaborations', incremental: false, restorable: false, description: 'Who has access to each folder, with their role.' },
    ],
    http: {
      platform: 'Box',
      baseUrl: options.baseUrl ?? BOX_API_URL,
      rate: () => ({ key: 'api', limit: PER_MINUTE, intervalMs: 60_000 }),
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const b = body as { message?: unknown; code?: unknown } | undefined;
        return typeof b?.message === 'string' ? b.message : undefined;
      },
      errorCode: (body) => {
        const code = (body as { code?: unknown } | undefined)?.code;
        return typeof code === 'string' ? code : undefined;
      },
    },
    fetch(resource, ctx) {
      if (resource === 'files') return fetchFiles(ctx);
      if (resource === 'collaborations') return fetchCollaborations(ctx);
      throw new ConfigError(`Box has no resource ${resource}`);
    },
  };
}

/** The entries of a folder, page by page (marker-based). */
async function* folderItems(ctx: FetchContext, folderId: string, fields: string): AsyncGenerator<MiniItem[], void, undefined> {
  let marker: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const { data } = await ctx.http.json<{ entries?: MiniItem[]; next_marker?: string | null }>(`folders/${folderId}/items`, { query: { fields, usemarker: true, limit: PAGE, marker } });
    if (!Array.isArray(data?.entries)) throw new PlatformError(`Box: folders/${folderId}/items answered without entries`);
    yield data.entries;
    const next = data.next_marker || undefined;
    if (!next) return;
    if (seen.has(next)) throw new PlatformError(`Box: folders/${folderId}/items repeats the marker ${next}`);
    seen.add(next);
    marker = next;
  }
}

/** Every file under a folder, folders depth first; `path` is the folder's place in the snapshot. */
async function* walk(ctx: FetchContext, folderId: string, path: string, seen: Set<string>): AsyncGenerator<ConnectorItem, void, undefined> {
  const folders: { id: string; path: string }[] = [];
  for await (const entries of folderItems(ctx, folderId, FILE_FIELDS)) {
    for (const entry of entries) {
      const name = safeName(entry.name ?? entry.id);
      if (entry.type === 'folder') folders.push({ id: entry.id, path: `${path}${name}/` });
      else if (entry.type === 'file' && !seen.has(entry.id)) {
        seen.add(entry.id);
        yield fileItem(ctx, entry as BoxFile, `${path}${name}`);
      }
    }
  }
  for (const folder of folders) {
    try {
      yield* walk(ctx, folder.id, folder.path, seen);
    } catch (error) {
      // Trashed or unshared while the walk went on: the rest of the tree is still backed up.
      if (error instanceof ConnectorError && error.status === 404) ctx.log.info({ folder: folder.id }, 'folder gone while listed, skipped');
      else throw error;
    }
  }
}

function fileItem(ctx: FetchContext, file: BoxFile, path: string): ConnectorItem {
  const version = file.file_version?.id;
  return {
    id: file.id,
    path: `files/${path}`,
    updatedAt: file.content_modified_at ?? file.modified_at,
    changeMarker: file.sha1 ?? undefined,
    size: file.size,
    contentType: 'application/octet-stream',
    metadata: { name: file.name ?? null, sha1: file.sha1 ?? null, etag: file.etag ?? null, versionId: version ?? null, modifiedAt: file.modified_at ?? null },
    content: () => ctx.http.stream(`files/${file.id}/content`, { query: { version }, resumable: true }),
  };
}

function safeName(name: string): string {
  return name.replace(/[/\\]/g, '_');
}

/** A folder's place in the snapshot from its `path_collection` (the root, "All Files", left out). */
function pathOf(item: BoxFile): string {
  const parents = (item.path_collection?.entries ?? []).filter((entry) => entry.id !== ROOT);
  return parents.map((entry) => `${safeName(entry.name ?? entry.id)}/`).join('');
}

async function currentPosition(ctx: FetchContext): Promise<string> {
  const { data } = await ctx.http.json<{ next_stream_position?: string | number }>('events', { query: { stream_position: 'now', stream_type: 'changes' } });
  if (data?.next_stream_position === undefined || data.next_stream_position === null) throw new PlatformError('Box: events answered without next_stream_position');
  return String(data.next_stream_position);
}

async function* fetchFiles(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = (ctx.cursor as { streamPosition?: unknown } | null | undefined)?.streamPosition;
  if (ctx.cursor !== undefined && typeof previous !== 'string') ctx.log.warn('unreadable cursor, running in full');
  if (typeof previous !== 'string') {
    // Taken before the walk: whatever changes while it runs is read again next time.
    const position = await currentPosition(ctx);
    yield* walk(ctx, ROOT, '', new Set());
    return { streamPosition: position };
  }

  const files = new Set<string>();
  const folders = new Set<string>();
  const events = new Set<string>();
  let position = previous;
  for (;;) {
    const { data } = await ctx.http.json<{ entries?: BoxEvent[]; next_stream_position?: string | number }>('events', { query: { stream_position: position, stream_type: 'changes', limit: EVENTS_PAGE } });
    if (!Array.isArray(data?.entries)) throw new PlatformError('Box: events answered without entries');
    for (const event of data.entries) {
      // Box may deliver an event more than once.
      if (event.event_id && events.has(event.event_id)) continue;
      if (event.event_id) events.add(event.event_id);
      const source = event.source;
      if (source?.type === 'file') files.add(source.id);
      else if (source?.type === 'folder' && FOLDER_CHANGES.has(event.event_type ?? '')) folders.add(source.id);
    }
    const next = data.next_stream_position === undefined || data.next_stream_position === null ? position : String(data.next_stream_position);
    if (data.entries.length === 0 || next === position) break;
    position = next;
  }

  const seen = new Set<string>();
  for (const id of folders) {
    const folder = await readItem(ctx, 'folders', id);
    if (!folder) continue;
    yield* walk(ctx, id, id === ROOT ? '' : `${pathOf(folder)}${safeName(folder.name ?? id)}/`, seen);
  }
  for (const id of files) {
    if (seen.has(id)) continue;
    const file = await readItem(ctx, 'files', id);
    if (!file) continue;
    seen.add(id);
    yield fileItem(ctx, file, `${pathOf(file)}${safeName(file.name ?? id)}`);
  }
  return { streamPosition: position };
}

/** A file or folder as it is now, or undefined when it is trashed or gone. */
async function readItem(ctx: FetchContext, kind: 'files' | 'folders', id: string): Promise<BoxFile | undefined> {
  try {
    const { data } = await ctx.http.json<BoxFile>(`${kind}/${id}`, { query: { fields: FILE_FIELDS } });
    if (data?.item_status && data.item_status !== 'active') return undefined;
    return data;
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) {
      ctx.log.debug({ kind, id }, 'trashed or gone at Box; dropped at the next full run');
      return undefined;
    }
    throw error;
  }
}

async function* fetchCollaborations(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  const queue: { id: string; path: string }[] = [{ id: ROOT, path: '' }];
  while (queue.length) {
    const folder = queue.shift()!;
    try {
      for await (const entries of folderItems(ctx, folder.id, 'type,id,name')) {
        for (const entry of entries) if (entry.type === 'folder') queue.push({ id: entry.id, path: `${folder.path}${safeName(entry.name ?? entry.id)}/` });
      }
    } catch (error) {
      if (error instanceof ConnectorError && error.status === 404) continue;
      throw error;
    }
    // The root folder cannot be shared.
    if (folder.id === ROOT) continue;
    let marker: string | undefined;
    for (;;) {
      const { data } = await ctx.http.json<{ entries?: (Record<string, unknown> & { id: string; modified_at?: string; role?: string; accessible_by?: { login?: string; name?: string } })[]; next_marker?: string | null }>(`folders/${folder.id}/collaborations`, { query: { limit: PAGE, marker } });
      for (const collaboration of data?.entries ?? []) {
        yield {
          id: collaboration.id,
          path: `collaborations/${folder.path}${collaboration.id}.json`,
          updatedAt: collaboration.modified_at,
          changeMarker: collaboration.modified_at,
          contentType: 'application/json',
          metadata: { folderId: folder.id, role: collaboration.role ?? null, login: collaboration.accessible_by?.login ?? collaboration.accessible_by?.name ?? null },
          content: jsonContent(collaboration),
        };
      }
      const next = data?.next_marker || undefined;
      if (!next || next === marker) break;
      marker = next;
    }
  }
  return undefined;
}
