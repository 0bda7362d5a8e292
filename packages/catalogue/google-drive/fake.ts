/**
 * A fake of the Google Drive API v3 under /drive/v3: files.list (`q` with the clauses the
 * connector uses, `fields`, `pageSize` ≤ 1000, `pageToken`/`nextPageToken`), files.get with
 * `alt=media` (streamed with backpressure, `Range` and `If-Range`, ETag), files.export (Docs
 * Editors files, 10 MB limit). Errors in Google's JSON error format: 401 UNAUTHENTICATED,
 * 403 `userRateLimitExceeded`, 403 `fileNotDownloadable`, 404 `notFound`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export const FOLDER = 'application/vnd.google-apps.folder';
export const GOOGLE_DOC = 'application/vnd.google-apps.document';
export const GOOGLE_SHEET = 'application/vnd.google-apps.spreadsheet';
const EXPORT_LIMIT = 10 * 1024 * 1024;

export interface FakeFile {
  kind: 'drive#file';
  id: string;
  name: string;
  mimeType: string;
  parents?: string[];
  createdTime: string;
  modifiedTime: string;
  trashed: boolean;
  size?: string;
  md5Checksum?: string;
  webViewLink: string;
  /** Not a Drive field: where the fake's bytes come from. */
  seed?: string;
}

const GOOGLE_ERRORS: Record<number, { status: string; reason: string; message: string; domain: string }> = {
  400: { status: 'INVALID_ARGUMENT', reason: 'badRequest', message: 'Bad Request', domain: 'global' },
  401: { status: 'UNAUTHENTICATED', reason: 'authError', message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', domain: 'global' },
  403: { status: 'PERMISSION_DENIED', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded', domain: 'usageLimits' },
  404: { status: 'NOT_FOUND', reason: 'notFound', message: 'File not found.', domain: 'global' },
  429: { status: 'RESOURCE_EXHAUSTED', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', domain: 'usageLimits' },
  500: { status: 'INTERNAL', reason: 'backendError', message: 'Backend Error', domain: 'global' },
  503: { status: 'UNAVAILABLE', reason: 'backendError', message: 'The service is currently unavailable.', domain: 'global' },
};

export function googleError(status: number, reason?: string, message?: string): { error: unknown } {
  const known = GOOGLE_ERRORS[status] ?? GOOGLE_ERRORS[500];
  const text = message ?? known.message;
  return { error: { code: status, message: text, errors: [{ message: text, domain: known.domain, reason: reason ?? known.reason }], status: known.status } };
}

export class FakeDrive extends FakeServer {
  readonly tokens = new Set<string>(['ya29.valid']);
  readonly files: FakeFile[] = [];
  /** The next download of a file id is cut after this many bytes. */
  readonly interruptions = new Map<string, number>();
  /** Bytes of a file's latest download written to the socket so far (backpressure makes this lag the reader). */
  readonly sent = new Map<string, number>();
  #pageTokens = new Map<string, { q: string; offset: number }>();

  add(name: string, mimeType: string, options: { parent?: string; size?: number; seed?: string } = {}): FakeFile {
    const at = new Date(this.now()).toISOString();
    const id = randomBytes(12).toString('base64url');
    const file: FakeFile = {
      kind: 'drive#file',
      id,
      name,
      mimeType,
      parents: options.parent === undefined ? ['root0000'] : options.parent ? [options.parent] : undefined,
      createdTime: at,
      modifiedTime: at,
      trashed: false,
      webViewLink: `https://drive.google.com/file/d/${id}/view`,
    };
    if (mimeType !== FOLDER && !mimeType.startsWith('application/vnd.google-apps.')) {
      file.seed = options.seed ?? id;
      file.size = String(options.size ?? 1000);
      file.md5Checksum = this.#md5(file);
    }
    this.files.push(file);
    return file;
  }

  modify(id: string, changes: { name?: string; size?: number; seed?: string; trashed?: boolean }): FakeFile {
    const file = this.files.find((f) => f.id === id)!;
    if (changes.name !== undefined) file.name = changes.name;
    if (changes.trashed !== undefined) file.trashed = changes.trashed;
    if (changes.size !== undefined) file.size = String(changes.size);
    if (changes.seed !== undefined) file.seed = changes.seed;
    if (file.seed) file.md5Checksum = this.#md5(file);
    file.modifiedTime = new Date(this.now()).toISOString();
    return file;
  }

  /** The bytes a Docs Editors file exports to (deterministic per file, format and modification). */
  exported(file: FakeFile, mimeType: string): Buffer {
    return Buffer.from(`PK\u0003\u0004 fake export of ${file.id} "${file.name}" as ${mimeType} at ${file.modifiedTime}\n`.repeat(20));
  }

  #md5(file: FakeFile): string {
    const hash = createHash('md5');
    for (const piece of generatedBytes(file.seed!, 0, Number(file.size))) hash.update(piece);
    return hash.digest('hex');
  }

  protected errorAnswer(status: number, failure: Failure): ErrorAnswer {
    return { status, body: googleError(status, failure.reason) };
  }

  protected async route(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const token = tokenOf(request);
    if (!token || !this.tokens.has(token)) {
      this.answer(request, res, 401, googleError(401), { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
      return;
    }
    const parts = request.path.split('/').filter(Boolean);
    if (parts[0] !== 'drive' || parts[1] !== 'v3' || parts[2] !== 'files' || request.method !== 'GET') {
      this.answer(request, res, 404, googleError(404, 'notFound', 'Not Found'));
      return;
    }
    if (parts.length === 3) return this.#list(request, res);
    const file = this.files.find((f) => f.id === parts[3]);
    if (!file) {
      this.answer(request, res, 404, googleError(404, 'notFound', `File not found: ${parts[3]}.`));
      return;
    }
    if (parts.length === 5 && parts[4] === 'export') {
      const mimeType = request.query.get('mimeType');
      if (!file.mimeType.startsWith('application/vnd.google-apps.') || file.mimeType === FOLDER || !mimeType) {
        this.answer(request, res, 400, googleError(400, 'badRequest', 'Export only supports Docs Editors files.'));
        return;
      }
      const body = this.exported(file, mimeType);
      if (body.length > EXPORT_LIMIT) {
        this.answer(request, res, 403, googleError(403, 'exportSizeLimitExceeded', 'This file is too large to be exported.'));
        return;
      }
      request.status = 200;
      res.writeHead(200, { 'content-type': mimeType, 'content-length': String(body.length), date: new Date(this.now()).toUTCString() });
      res.end(body);
      return;
    }
    if (parts.length === 4 && request.query.get('alt') === 'media') {
      if (!file.seed) {
        this.answer(request, res, 403, googleError(403, 'fileNotDownloadable', 'Only files with binary content can be downloaded. Use Export with Docs Editors files.'));
        return;
      }
      await this.#download(request, res, file);
      return;
    }
    if (parts.length === 4) {
      this.answer(request, res, 200, selectFields(file, request.query.get('fields'), ['kind', 'id', 'name', 'mimeType']));
      return;
    }
    this.answer(request, res, 404, googleError(404, 'notFound', 'Not Found'));
  }

  async #download(request: RecordedRequest, res: ServerResponse, file: FakeFile): Promise<void> {
    const size = Number(file.size);
    const etag = `"${file.md5Checksum}"`;
    let start = 0;
    let end = size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(request.headers.range ?? ''));
    const ifRange = request.headers['if-range'];
    const headers: Record<string, string> = { 'content-type': file.mimeType, 'accept-ranges': 'bytes', etag, date: new Date(this.now()).toUTCString() };
    let status = 200;
    if (range && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      end = range[2] ? Math.min(size, Number(range[2]) + 1) : size;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    }
    headers['content-length'] = String(end - start);
    request.status = status;
    res.writeHead(status, headers);
    const cutAt = this.interruptions.get(file.id);
    if (cutAt !== undefined) this.interruptions.delete(file.id);
    let sent = 0;
    this.sent.set(file.id, 0);
    for (const piece of generatedBytes(file.seed!, start, end)) {
      if (res.destroyed) return;
      if (cutAt !== undefined && sent + piece.length > cutAt) {
        res.write(piece.subarray(0, cutAt - sent));
        await new Promise((resolve) => setTimeout(resolve, 20));
        res.destroy();
        return;
      }
      sent += piece.length;
      this.sent.set(file.id, sent);
      if (!res.write(piece)) await drained(res);
    }
    res.end();
  }

  #list(request: RecordedRequest, res: ServerResponse): void {
    const pageSize = Number(request.query.get('pageSize') ?? 100);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      this.answer(request, res, 400, googleError(400, 'invalid', `Invalid value '${pageSize}'. Values must be within the range: [1, 1000]`));
      return;
    }
    const q = request.query.get('q') ?? '';
    let matches: (file: FakeFile) => boolean;
    try {
      matches = parseQuery(q);
    } catch (error) {
      this.answer(request, res, 400, googleError(400, 'invalid', `Invalid Value: ${(error as Error).message}`));
      return;
    }
    let offset = 0;
    const token = request.query.get('pageToken');
    if (token) {
      const saved = this.#pageTokens.get(token);
      if (!saved || saved.q !== q) {
        this.answer(request, res, 400, googleError(400, 'invalid', 'Invalid Value'));
        return;
      }
      offset = saved.offset;
    }
    const all = this.files.filter(matches);
    const page = all.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = { kind: 'drive#fileList', incompleteSearch: false };
    if (offset + pageSize < all.length) {
      const next = randomBytes(16).toString('base64url');
      this.#pageTokens.set(next, { q, offset: offset + pageSize });
      body.nextPageToken = next;
    }
    body.files = page.map((f) => ({ ...f }));
    const fields = request.query.get('fields');
    this.answer(request, res, 200, fields ? selectListFields(body, fields) : selectListFields(body, 'kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)'));
  }
}

/** `fields=nextPageToken,files(id,name)` applied to a list answer, as Drive does. */
function selectListFields(body: Record<string, unknown>, fields: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const filesMatch = /files\(([^)]*)\)/.exec(fields);
  const top = fields.replace(/files\([^)]*\)/, 'files').split(',').map((f) => f.trim());
  for (const name of top) {
    if (name === 'files') out.files = (body.files as FakeFile[]).map((f) => selectFields(f, filesMatch ? filesMatch[1] : '*'));
    else if (name in body) out[name] = body[name];
  }
  return out;
}

function selectFields(file: FakeFile, fields: string | null, defaults?: string[]): Record<string, unknown> {
  const { seed: _seed, ...visible } = file;
  const wanted = fields ? fields.split(',').map((f) => f.trim()) : defaults;
  if (!wanted || wanted.includes('*')) return visible;
  return Object.fromEntries(Object.entries(visible).filter(([key]) => wanted.includes(key)));
}

/** The part of Drive's query language the connector speaks, joined by `and`. */
function parseQuery(q: string): (file: FakeFile) => boolean {
  if (!q.trim()) return () => true;
  const tests = q.split(/\s+and\s+/i).map((clause) => {
    let m = /^trashed\s*=\s*(true|false)$/.exec(clause.trim());
    if (m) {
      const value = m[1] === 'true';
      return (f: FakeFile) => f.trashed === value;
    }
    m = /^mimeType\s*(=|!=)\s*'([^']*)'$/.exec(clause.trim());
    if (m) {
      const [, op, value] = m;
      return (f: FakeFile) => (op === '=' ? f.mimeType === value : f.mimeType !== value);
    }
    m = /^modifiedTime\s*(>|>=|<|<=)\s*'([^']*)'$/.exec(clause.trim());
    if (m) {
      const [, op, value] = m;
      const at = Date.parse(value);
      if (Number.isNaN(at)) throw new Error(`bad time ${value}`);
      return (f: FakeFile) => {
        const t = Date.parse(f.modifiedTime);
        return op === '>' ? t > at : op === '>=' ? t >= at : op === '<' ? t < at : t <= at;
      };
    }
    m = /^'([^']*)'\s+in\s+parents$/.exec(clause.trim());
    if (m) {
      const id = m[1];
      return (f: FakeFile) => (f.parents ?? []).includes(id);
    }
    throw new Error(`unsupported clause: ${clause}`);
  });
  return (file) => tests.every((test) => test(file));
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
