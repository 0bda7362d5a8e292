/**
 * A fake of the Box Content API (2.0) for what the connector uses: folder items, folders and files
 * read by id, file content downloads, folder collaborations and the user event stream. Speaks the
 * documented wire format:
 *
 * - `GET /folders/{id}/items`: marker-based paging with `usemarker=true`, `marker` and `limit` (at
 *   most 1,000; answers `entries`, `limit`, `next_marker`, empty at the end), or offset paging with
 *   `offset`, `limit` and `total_count`; `fields` selects the fields answered, mini objects otherwise;
 * - `GET /files/{id}/content`: a 302 to a download URL on another host (here: the same server,
 *   without credentials), which honours `Range`; `version` pins a file version;
 * - `GET /events`: `stream_position` (`now` for the current one), `stream_type=changes`, `limit`
 *   (at most 500), answers `chunk_size`, `next_stream_position` and `entries` with the item as `source`;
 * - errors as `{"type": "error", "status", "code", "message", "help_url", "request_id"}`; a 401
 *   with an empty body and `WWW-Authenticate: Bearer … error="invalid_token"`; 429
 *   `rate_limit_exceeded` with `Retry-After`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

export interface FakeBoxFile {
  type: 'file';
  id: string;
  name: string;
  parent: string;
  size: number;
  sha1: string;
  etag: string;
  sequence_id: string;
  modified_at: string;
  content_modified_at: string;
  file_version: { type: 'file_version'; id: string; sha1: string };
  item_status: 'active' | 'trashed';
  /** Not a Box field: where the fake's bytes come from, per version id. */
  versions: Map<string, { seed: string; size: number }>;
}

export interface FakeBoxFolder {
  type: 'folder';
  id: string;
  name: string;
  parent: string | null;
  etag: string;
  sequence_id: string;
  modified_at: string;
  item_status: 'active' | 'trashed';
  collaborations: Json[];
}

const sha1Of = (seed: string, size: number) => {
  const hash = createHash('sha1');
  for (const piece of generatedBytes(seed, 0, size)) hash.update(piece);
  return hash.digest('hex');
};

export class FakeBox extends FakeServer {
  readonly tokens = new Set<string>(['box-valid']);
  /** Access tokens past their hour. */
  readonly expired = new Set<string>(['box-expired']);
  readonly folders = new Map<string, FakeBoxFolder>();
  readonly files = new Map<string, FakeBoxFile>();
  /** The user's change events, oldest first; a stream position is an index into it plus a base. */
  readonly events: Json[] = [];
  /** Most entries a folder listing page holds, whatever `limit` asks (tests make pages small). */
  maxPage = 1000;
  #ids = 1000;
  readonly #base = 8_000_000;

  constructor() {
    super();
    this.folders.set('0', { type: 'folder', id: '0', name: 'All Files', parent: null, etag: '0', sequence_id: '0', modified_at: this.#at(), item_status: 'active', collaborations: [] });
  }

  #at(): string {
    return new Date(Math.floor(this.now() / 1000) * 1000).toISOString().replace('.000Z', '-00:00');
  }

  #event(type: string, item: FakeBoxFile | FakeBoxFolder): void {
    this.events.push({ type: 'event', event_id: randomBytes(8).toString('hex'), event_type: type, created_at: this.#at(), recorded_at: this.#at(), session_id: null, created_by: { type: 'user', id: '11446498', name: 'Ada', login: 'ada@example.com' }, source: this.#full(item) });
  }

  addFolder(name: string, parent = '0'): FakeBoxFolder {
    const folder: FakeBoxFolder = { type: 'folder', id: String(++this.#ids), name, parent, etag: '0', sequence_id: '0', modified_at: this.#at(), item_status: 'active', collaborations: [] };
    this.folders.set(folder.id, folder);
    this.#event('ITEM_CREATE', folder);
    return folder;
  }

  /** Uploads a file, or a new version of one of the same name in the folder (same id, new sha1 and etag). */
  putFile(name: string, parent: string, size: number): FakeBoxFile {
    const existing = [...this.files.values()].find((f) => f.parent === parent && f.name === name && f.item_status === 'active');
    const version = String(++this.#ids);
    const seed = `${name}#${version}`;
    const sha1 = sha1Of(seed, size);
    const sequence = existing ? String(Number(existing.sequence_id) + 1) : '0';
    const file: FakeBoxFile = existing ?? ({ type: 'file', id: String(++this.#ids), name, parent, versions: new Map() } as unknown as FakeBoxFile);
    Object.assign(file, { size, sha1, etag: sequence, sequence_id: sequence, modified_at: this.#at(), content_modified_at: this.#at(), file_version: { type: 'file_version', id: version, sha1 }, item_status: 'active' });
    file.versions.set(version, { seed, size });
    this.files.set(file.id, file);
    this.#event('ITEM_UPLOAD', file);
    return file;
  }

  rename(item: FakeBoxFile | FakeBoxFolder, name: string): void {
    item.name = name;
    item.etag = item.sequence_id = String(Number(item.sequence_id) + 1);
    item.modified_at = this.#at();
    this.#event('ITEM_RENAME', item);
  }

  trash(item: FakeBoxFile | FakeBoxFolder): void {
    item.item_status = 'trashed';
    this.#event('ITEM_TRASH', item);
  }

  addCollaboration(folder: FakeBoxFolder, login: string, role = 'editor'): Json {
    const collaboration = { type: 'collaboration', id: String(++this.#ids), item: this.#mini(folder), accessible_by: { type: 'user', id: String(++this.#ids), name: login.split('@')[0], login }, role, status: 'accepted', created_at: this.#at(), modified_at: this.#at() };
    folder.collaborations.push(collaboration);
    this.#event('COLLAB_ADD_COLLABORATOR', folder);
    return collaboration;
  }

  /** The content a file version serves, for tests to hash. */
  seedOf(file: FakeBoxFile): string {
    return file.versions.get(file.file_version.id)!.seed;
  }

  #mini(item: FakeBoxFile | FakeBoxFolder): Json {
    return item.type === 'file' ? { type: 'file', id: item.id, sequence_id: item.sequence_id, etag: item.etag, sha1: item.sha1, name: item.name, file_version: item.file_version } : { type: 'folder', id: item.id, sequence_id: item.sequence_id, etag: item.etag, name: item.name };
  }

  #ancestors(item: FakeBoxFile | FakeBoxFolder): FakeBoxFolder[] {
    const chain: FakeBoxFolder[] = [];
    for (let id = item.parent; id !== null; ) {
      const folder = this.folders.get(id)!;
      chain.unshift(folder);
      id = folder.parent;
    }
    return chain;
  }

  /** Trashed when it or a folder above it is. */
  #trashed(item: FakeBoxFile | FakeBoxFolder): boolean {
    return item.item_status === 'trashed' || this.#ancestors(item).some((folder) => folder.item_status === 'trashed');
  }

  #full(item: FakeBoxFile | FakeBoxFolder): Json {
    const chain = this.#ancestors(item);
    const common = { ...this.#mini(item), modified_at: item.modified_at, item_status: this.#trashed(item) ? 'trashed' : 'active', parent: chain.length ? this.#mini(chain.at(-1)!) : null, path_collection: { total_count: chain.length, entries: chain.map((f) => this.#mini(f)) } };
    return item.type === 'file' ? { ...common, size: item.size, content_modified_at: item.content_modified_at } : common;
  }

  /** Box answers the requested fields plus the mini object's. */
  #select(item: FakeBoxFile | FakeBoxFolder, fields: string | null): Json {
    if (!fields) return this.#mini(item);
    const full = this.#full(item);
    const out: Json = { type: item.type, id: item.id, etag: item.etag };
    for (const name of fields.split(',')) if (name in full) out[name] = full[name];
    return out;
  }

  #error(status: number, code: string, message: string): ErrorAnswer {
    return { status, body: { type: 'error', status, code, help_url: 'http://developers.box.com/docs/#errors', message, request_id: randomBytes(6).toString('hex') } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { ...this.#error(429, 'rate_limit_exceeded', 'Request rate limit exceeded, please try again later'), headers: { 'retry-after': '1' } };
    if (status === 401) return { status, body: '', headers: { 'www-authenticate': 'Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid."' } };
    if (status === 403) return this.#error(403, 'access_denied_insufficient_permissions', 'Access denied - insufficient permission');
    if (status === 404) return this.#error(404, 'not_found', 'Not Found');
    if (status >= 500) return this.#error(status, 'internal_server_error', 'Internal Server Error');
    return this.#error(status, 'bad_request', 'Bad Request');
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, answer.headers);
    };
    const reply = (body: unknown): undefined => {
      this.answer(request, res, 200, body);
    };
    const download = /^\/download\/(\d+)\/(\d+)$/.exec(request.path);
    if (download) return this.#download(request, res, download[1], download[2], send);
    const token = tokenOf(request);
    if (!token || this.expired.has(token) || !this.tokens.has(token)) {
      const description = token && this.expired.has(token) ? 'The access token provided has expired.' : 'The access token provided is invalid.';
      return send({ status: 401, body: '', headers: { 'www-authenticate': `Bearer realm="Service", error="invalid_token", error_description="${description}"` } });
    }
    if (request.method !== 'GET') return send(this.#error(405, 'method_not_allowed', 'Method Not Allowed'));
    const q = request.query;
    const path = request.path.replace(/^\/2\.0/, '');
    let match: RegExpExecArray | null;
    if ((match = /^\/folders\/(\d+)\/items$/.exec(path))) {
      const folder = this.folders.get(match[1]);
      if (!folder || this.#trashed(folder)) return send(this.#error(404, 'not_found', 'Not Found'));
      const children = [...this.folders.values(), ...this.files.values()].filter((item) => item.parent === folder.id && item.item_status === 'active').sort((a, b) => (a.type === b.type ? Number(a.id) - Number(b.id) : a.type === 'folder' ? -1 : 1));
      const limit = Math.min(this.maxPage, Math.max(1, Number(q.get('limit') ?? 100)));
      const entries = (offset: number) => children.slice(offset, offset + limit).map((item) => this.#select(item, q.get('fields')));
      if (q.get('usemarker') === 'true') {
        const marker = q.get('marker');
        const offset = marker ? Number(Buffer.from(marker, 'base64url').toString()) : 0;
        if (!Number.isInteger(offset)) return send(this.#error(400, 'invalid_parameter', 'Invalid value for marker'));
        const next = offset + limit < children.length ? Buffer.from(String(offset + limit)).toString('base64url') : '';
        return reply({ entries: entries(offset), limit, next_marker: next, prev_marker: '' });
      }
      const offset = Number(q.get('offset') ?? 0);
      return reply({ entries: entries(offset), limit, offset, total_count: children.length, order: [{ by: 'type', direction: 'ASC' }] });
    }
    if ((match = /^\/folders\/(\d+)\/collaborations$/.exec(path))) {
      const folder = this.folders.get(match[1]);
      if (!folder || this.#trashed(folder)) return send(this.#error(404, 'not_found', 'Not Found'));
      const limit = Math.min(1000, Number(q.get('limit') ?? 100));
      const offset = q.get('marker') ? Number(Buffer.from(q.get('marker')!, 'base64url').toString()) : 0;
      const next = offset + limit < folder.collaborations.length ? Buffer.from(String(offset + limit)).toString('base64url') : null;
      return reply({ entries: folder.collaborations.slice(offset, offset + limit), limit, next_marker: next });
    }
    if ((match = /^\/(folders|files)\/(\d+)$/.exec(path))) {
      const item = match[1] === 'folders' ? this.folders.get(match[2]) : this.files.get(match[2]);
      // A trashed item is read at /{type}/{id}/trash; here it is not found.
      if (!item || this.#trashed(item)) return send(this.#error(404, 'not_found', 'Not Found'));
      return reply(this.#select(item, q.get('fields')));
    }
    if ((match = /^\/files\/(\d+)\/content$/.exec(path))) {
      const file = this.files.get(match[1]);
      if (!file || this.#trashed(file)) return send(this.#error(404, 'not_found', 'Not Found'));
      const version = q.get('version') ?? file.file_version.id;
      if (!file.versions.has(version)) return send(this.#error(404, 'not_found', 'Not Found'));
      request.status = 302;
      res.writeHead(302, { location: `${this.url}/download/${file.id}/${version}`, 'content-length': '0', date: new Date(this.now()).toUTCString() });
      res.end();
      return undefined;
    }
    if (path === '/events') {
      if ((q.get('stream_type') ?? 'all') !== 'changes') return send(this.#error(400, 'bad_request', 'Only the changes stream is served here'));
      const position = q.get('stream_position');
      if (position === 'now') return reply({ chunk_size: 0, next_stream_position: this.#base + this.events.length, entries: [] });
      const start = position === null ? 0 : Number(position) - this.#base;
      if (!Number.isInteger(start) || start < 0) return send(this.#error(400, 'invalid_parameter', 'Invalid value for stream_position'));
      const limit = Math.min(500, Number(q.get('limit') ?? 100));
      const entries = this.events.slice(start, start + limit);
      return reply({ chunk_size: entries.length, next_stream_position: this.#base + start + entries.length, entries });
    }
    return send(this.#error(404, 'not_found', 'Not Found'));
  }

  #download(request: RecordedRequest, res: ServerResponse, id: string, version: string, send: (answer: ErrorAnswer) => undefined): undefined {
    const file = this.files.get(id);
    const stored = file?.versions.get(version);
    if (!stored) return send(this.#error(404, 'not_found', 'Not Found'));
    const { seed, size } = stored;
    const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''));
    const start = range ? Number(range[1]) : 0;
    request.status = range ? 206 : 200;
    res.writeHead(request.status, {
      'content-type': 'application/octet-stream',
      'content-length': String(size - start),
      etag: `"${version}"`,
      ...(range ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
      date: new Date(this.now()).toUTCString(),
    });
    for (const piece of generatedBytes(seed, start, size)) res.write(piece);
    res.end();
    return undefined;
  }
}
