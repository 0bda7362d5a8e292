/**
 * A fake of the Dropbox API v2 for what the connector uses, the RPC host's endpoints under /2
 * (files/list_folder, files/list_folder/continue, sharing/list_shared_links) and the content
 * host's files/download (served from the same origin, under /2 too). Speaks the documented wire
 * format:
 *
 * - RPC calls are POSTs with a JSON body; list_folder pages with `cursor` / `has_more` (at most
 *   `limit` entries, 2,000 by default), and a cursor handed back later lists what changed since,
 *   deletions as `{".tag": "deleted"}` entries; a cursor the server no longer accepts is a 409
 *   `reset`;
 * - downloads take `Dropbox-API-Arg: {"path": …}`, answer the metadata in `Dropbox-API-Result`
 *   and honour `Range`;
 * - errors as `{"error_summary": "…/", "error": {".tag": …}}`: 401 `expired_access_token` or
 *   `invalid_access_token`, 409 `path/not_found`, 429 `too_many_requests` with `Retry-After`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export interface FakeDropboxFile {
  '.tag': 'file';
  id: string;
  name: string;
  path_lower: string;
  path_display: string;
  client_modified: string;
  server_modified: string;
  rev: string;
  size: number;
  content_hash: string;
  is_downloadable: boolean;
  /** Not a Dropbox field: where the fake's bytes come from. */
  seed: string;
}

interface FakeFolder {
  '.tag': 'folder';
  id: string;
  name: string;
  path_lower: string;
  path_display: string;
}

type Entry = FakeDropboxFile | FakeFolder;

/** What a list_folder cursor stands for: the change log position, and the listing's options. */
interface CursorState {
  seq: number;
  offset: number;
  path: string;
  recursive: boolean;
  /** The log position the listing began at (cursors from before `resetBefore` are refused). */
  base: number;
  /** Paging a first listing (entries as they are), rather than the changes after `seq`. */
  snapshot: boolean;
}

const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Dropbox's content hash: SHA-256 of the SHA-256 of each 4 MiB block. */
function contentHash(seed: string, size: number): string {
  const outer = createHash('sha256');
  const block = 4 * 1024 * 1024;
  for (let start = 0; start < size; start += block) {
    const inner = createHash('sha256');
    for (const piece of generatedBytes(seed, start, Math.min(size, start + block))) inner.update(piece);
    outer.update(inner.digest());
  }
  return outer.digest('hex');
}

export class FakeDropbox extends FakeServer {
  readonly tokens = new Set<string>(['sl.valid']);
  /** Short-lived tokens past their four hours: `expired_access_token`. */
  readonly expired = new Set<string>(['sl.expired']);
  readonly entries = new Map<string, Entry>();
  /** Every change, in order: a path and what it became (an entry, or deleted). */
  readonly log: { path: string; entry: Entry | null; seq: number }[] = [];
  readonly sharedLinks: Record<string, unknown>[] = [];
  /** Most entries a list_folder page holds, whatever `limit` asks (tests make pages small). */
  maxPage = 2000;
  /** Cursors made before this log position are refused with `reset`. */
  resetBefore = 0;
  #seq = 0;
  #ids = 0;

  #change(path: string, entry: Entry | null): void {
    this.log.push({ path, entry, seq: ++this.#seq });
    if (entry) this.entries.set(path, entry);
    else this.entries.delete(path);
  }

  addFolder(path: string): FakeFolder {
    const folder: FakeFolder = { '.tag': 'folder', id: `id:${randomBytes(8).toString('base64url')}`, name: path.split('/').at(-1)!, path_lower: path.toLowerCase(), path_display: path };
    this.#change(folder.path_lower, folder);
    return folder;
  }

  /** Adds or replaces a file; a replaced file keeps its id and gets a new rev. */
  putFile(path: string, size: number, options: { downloadable?: boolean } = {}): FakeDropboxFile {
    const existing = this.entries.get(path.toLowerCase());
    const seed = `${path}#${++this.#ids}`;
    const at = seconds(this.now());
    const file: FakeDropboxFile = {
      '.tag': 'file',
      id: existing?.id ?? `id:${randomBytes(8).toString('base64url')}`,
      name: path.split('/').at(-1)!,
      path_lower: path.toLowerCase(),
      path_display: path,
      client_modified: at,
      server_modified: at,
      rev: randomBytes(7).toString('hex'),
      size,
      content_hash: contentHash(seed, size),
      is_downloadable: options.downloadable ?? true,
      seed,
    };
    this.#change(file.path_lower, file);
    return file;
  }

  /** The next download's connection drops after this many bytes of the body. */
  cutNextDownloadAfter: number | undefined;

  /** Dropbox invalidates every cursor issued so far (as after a restore of the account). */
  resetCursors(): void {
    this.resetBefore = ++this.#seq;
  }

  remove(path: string): void {
    this.#change(path.toLowerCase(), null);
  }

  addSharedLink(file: FakeDropboxFile): Record<string, unknown> {
    const link = { '.tag': 'file', url: `https://www.dropbox.com/scl/fi/${randomBytes(6).toString('hex')}/${file.name}?dl=0`, id: file.id, name: file.name, path_lower: file.path_lower, link_permissions: { can_revoke: true, resolved_visibility: { '.tag': 'public' } }, client_modified: file.client_modified, server_modified: file.server_modified, rev: file.rev, size: file.size };
    this.sharedLinks.push(link);
    return link;
  }

  #error(status: number, summary: string, error: Record<string, unknown>): ErrorAnswer {
    return { status, body: { error_summary: summary, error } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { ...this.#error(429, 'too_many_requests/..', { reason: { '.tag': 'too_many_requests' }, retry_after: 1 }), headers: { 'retry-after': '1' } };
    if (status === 401) return this.#error(401, 'invalid_access_token/...', { '.tag': 'invalid_access_token' });
    if (status >= 500) return { status, body: 'Internal Server Error' };
    return this.#error(status, 'other/...', { '.tag': 'other' });
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, answer.headers);
    };
    const token = tokenOf(request);
    if (!token || this.expired.has(token)) return send(this.#error(401, 'expired_access_token/', { '.tag': 'expired_access_token' }));
    if (!this.tokens.has(token)) return send(this.#error(401, 'invalid_access_token/', { '.tag': 'invalid_access_token' }));
    if (request.method !== 'POST') return send({ status: 400, body: 'Error in call to API function: expected POST' });
    if (request.path === '/2/files/download') return this.#download(request, res, send);

    let body: Record<string, any>;
    try {
      body = request.body === '' ? {} : JSON.parse(request.body);
    } catch {
      return send({ status: 400, body: 'Error in call to API function "files/list_folder": request body: could not decode input as JSON' });
    }
    switch (request.path) {
      case '/2/files/list_folder': {
        const path = String(body.path ?? '').toLowerCase();
        if (path !== '' && !this.entries.has(path)) return send(this.#error(409, 'path/not_found/..', { '.tag': 'path', path: { '.tag': 'not_found' } }));
        return this.#list(request, res, { seq: this.#seq, offset: 0, path, recursive: body.recursive === true, base: this.#seq, snapshot: true }, Math.min(2000, this.maxPage, Number(body.limit ?? 2000)));
      }
      case '/2/files/list_folder/continue': {
        const state = this.#decode(String(body.cursor ?? ''));
        if (!state) return send({ status: 400, body: 'Error in call to API function "files/list_folder/continue": request body: cursor: invalid cursor' });
        if (state.base < this.resetBefore) return send(this.#error(409, 'reset/..', { '.tag': 'reset' }));
        return this.#list(request, res, state, Number((state as CursorState & { limit?: number }).limit ?? 2000));
      }
      case '/2/sharing/list_shared_links': {
        const offset = body.cursor ? Number(Buffer.from(String(body.cursor), 'base64url').toString()) : 0;
        const page = this.sharedLinks.slice(offset, offset + 2);
        const more = offset + 2 < this.sharedLinks.length;
        this.answer(request, res, 200, { links: page, has_more: more, ...(more ? { cursor: Buffer.from(String(offset + 2)).toString('base64url') } : {}) });
        return;
      }
      default:
        return send({ status: 400, body: `Unknown API function: "${request.path.slice(3)}"` });
    }
  }

  #decode(cursor: string): CursorState | undefined {
    try {
      const state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorState;
      return typeof state.seq === 'number' && typeof state.offset === 'number' ? state : undefined;
    } catch {
      return undefined;
    }
  }

  #encode(state: CursorState): string {
    return Buffer.from(JSON.stringify(state)).toString('base64url');
  }

  /**
   * A first listing (`snapshot`: the entries as of `state.base`, paged by offset) or the changes
   * after `state.seq` (each path once, as it is now).
   */
  #list(request: RecordedRequest, res: ServerResponse, state: CursorState, limit: number): undefined {
    const snapshot = state.snapshot;
    const under = (path: string) => state.path === '' || path === state.path || path.startsWith(`${state.path}/`);
    const direct = (path: string) => state.recursive || path.split('/').length - state.path.split('/').length <= 1;
    const strip = (entry: Entry) => {
      const { seed: _seed, ...rest } = entry as FakeDropboxFile;
      return rest;
    };
    let all: unknown[];
    let end: number;
    if (snapshot) {
      all = [...this.entries.entries()].filter(([path]) => under(path) && direct(path) && path !== state.path).sort(([a], [b]) => a.localeCompare(b)).map(([, entry]) => strip(entry));
      end = state.base;
    } else {
      const changed = new Map<string, Entry | null>();
      for (const change of this.log) if (change.seq > state.seq && under(change.path) && direct(change.path)) changed.set(change.path, change.entry);
      all = [...changed].map(([path, entry]) => (entry ? strip(entry) : { '.tag': 'deleted', name: path.split('/').at(-1), path_lower: path, path_display: path }));
      end = this.#seq;
    }
    const page = all.slice(state.offset, state.offset + limit);
    const more = state.offset + limit < all.length;
    // A first listing keeps its page size in the cursor, as Dropbox keeps `limit`.
    const cursor = this.#encode(more ? { ...state, offset: state.offset + limit, limit } as CursorState : { ...state, seq: end, offset: 0, snapshot: false });
    this.answer(request, res, 200, { entries: page, cursor, has_more: more });
    return undefined;
  }

  #download(request: RecordedRequest, res: ServerResponse, send: (answer: ErrorAnswer) => undefined): undefined {
    let arg: { path?: string };
    try {
      arg = JSON.parse(String(request.headers['dropbox-api-arg'] ?? ''));
    } catch {
      return send({ status: 400, body: 'Error in call to API function "files/download": Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".' });
    }
    const wanted = String(arg.path ?? '');
    const file = [...this.entries.values()].find((e): e is FakeDropboxFile => e['.tag'] === 'file' && (e.id === wanted || e.path_lower === wanted.toLowerCase() || `rev:${e.rev}` === wanted));
    if (!file) return send(this.#error(409, 'path/not_found/..', { '.tag': 'path', path: { '.tag': 'not_found' } }));
    if (!file.is_downloadable) return send(this.#error(409, 'unsupported_file/..', { '.tag': 'unsupported_file' }));
    const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''));
    const start = range ? Number(range[1]) : 0;
    const { seed: _seed, ...metadata } = file;
    request.status = range ? 206 : 200;
    res.writeHead(request.status, {
      'content-type': 'application/octet-stream',
      'content-length': String(file.size - start),
      'dropbox-api-result': JSON.stringify(metadata).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      etag: `W/"${file.rev}"`,
      ...(range ? { 'content-range': `bytes ${start}-${file.size - 1}/${file.size}` } : {}),
      date: new Date(this.now()).toUTCString(),
    });
    const cut = this.cutNextDownloadAfter;
    this.cutNextDownloadAfter = undefined;
    let sent = 0;
    for (const piece of generatedBytes(file.seed, start, file.size)) {
      if (cut !== undefined && sent + piece.length > cut) {
        res.write(piece.subarray(0, cut - sent), () => res.destroy());
        return undefined;
      }
      sent += piece.length;
      res.write(piece);
    }
    res.end();
    return undefined;
  }
}
