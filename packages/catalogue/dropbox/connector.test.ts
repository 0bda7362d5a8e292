import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, type ConnectorItem, fetchResource } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createDropboxConnector } from './connector.ts';
import { FakeDropbox, type FakeDropboxFile } from './fake.ts';

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

describe('Dropbox connector', () => {
  const dropbox = new FakeDropbox();
  let connector: ReturnType<typeof createDropboxConnector>;
  const token = () => tokenCredentials('accessToken', 'sl.valid');
  let big: FakeDropboxFile;
  const notes: FakeDropboxFile[] = [];

  beforeAll(async () => {
    await dropbox.start();
    connector = createDropboxConnector({ baseUrl: `${dropbox.url}/2` });
    dropbox.maxPage = 100;
    dropbox.addFolder('/Photos');
    dropbox.addFolder('/Work');
    dropbox.addFolder('/Work/Reports');
    for (let i = 0; i < 240; i++) notes.push(dropbox.putFile(`/Work/Reports/Report ${i}.txt`, 100 + i));
    big = dropbox.putFile('/Photos/Holiday – Été.mp4', 3 * 1024 * 1024 + 17);
    dropbox.putFile('/Work/Plan.paper', 10, { downloadable: false });
    dropbox.addSharedLink(notes[0]);
    dropbox.addSharedLink(notes[1]);
    dropbox.addSharedLink(big);
  });
  afterAll(() => dropbox.close());

  it('lists every file recursively across pages and streams each content from files/download', async () => {
    dropbox.requests.length = 0;
    const { items, cursor } = await collect(connector, 'files', token());
    expect(items).toHaveLength(241);
    const listings = dropbox.requests.filter((r) => r.path.startsWith('/2/files/list_folder'));
    // 3 folders and 242 files, 100 entries a page
    expect(listings.map((r) => r.path)).toEqual(['/2/files/list_folder', '/2/files/list_folder/continue', '/2/files/list_folder/continue']);
    expect(JSON.parse(listings[0].body)).toMatchObject({ path: '', recursive: true, include_deleted: false });
    const video = items.find((i) => i.id === big.id)!;
    expect(video.path).toBe('files/Photos/Holiday – Été.mp4');
    expect(sha256(video.body)).toBe(generatedSha256(big.seed, big.size));
    const report = items.find((i) => i.id === notes[7].id)!;
    expect(sha256(report.body)).toBe(generatedSha256(notes[7].seed, notes[7].size));
    const downloads = dropbox.requestsTo('/2/files/download', 'POST');
    expect(downloads).toHaveLength(241);
    expect(JSON.parse(String(downloads.find((r) => r.status === 200 && JSON.parse(String(r.headers['dropbox-api-arg'])).path === `rev:${big.rev}`)?.headers['dropbox-api-arg']))).toEqual({ path: `rev:${big.rev}` });
    expect(dropbox.requests.every((r) => r.headers.authorization === 'Bearer sl.valid')).toBe(true);
    expect(items.some((i) => i.path.endsWith('Plan.paper'))).toBe(false);
    expect(cursor).toEqual({ cursor: expect.any(String) });
  });

  it('gives each file its content_hash as change marker and its size', async () => {
    const found: ConnectorItem[] = [];
    for await (const item of fetchResource(connector, 'files', token())) found.push(item);
    const video = found.find((i) => i.id === big.id)!;
    expect(video).toMatchObject({ changeMarker: big.content_hash, size: big.size, updatedAt: big.server_modified });
  });

  it('a second run continues from the cursor and gets only the changed files; a third gets nothing', async () => {
    const first = await collect(connector, 'files', token());
    const added = dropbox.putFile('/Work/New.txt', 42);
    const replaced = dropbox.putFile(notes[3].path_display, 77);
    dropbox.remove(notes[4].path_display);
    dropbox.requests.length = 0;
    const second = await collect(connector, 'files', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id).sort()).toEqual([added.id, replaced.id].sort());
    expect(sha256(second.items.find((i) => i.id === replaced.id)!.body)).toBe(generatedSha256(replaced.seed, 77));
    expect(JSON.parse(dropbox.requests[0].body)).toEqual({ cursor: (first.cursor as { cursor: string }).cursor });
    const third = await collect(connector, 'files', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('resumes a download the connection dropped with Range, pinned to the same rev', async () => {
    const run = fetchResource(connector, 'files', { ...token(), retry: { baseDelayMs: 5, maxDelayMs: 50 } });
    let body: Buffer | undefined;
    for await (const item of run) {
      if (item.id !== big.id) continue;
      dropbox.requests.length = 0;
      dropbox.cutNextDownloadAfter = 1_000_000;
      const chunks: Uint8Array[] = [];
      for await (const chunk of item.content()) chunks.push(chunk);
      body = Buffer.concat(chunks);
    }
    expect(sha256(body!)).toBe(generatedSha256(big.seed, big.size));
    const [cut, resumed] = dropbox.requestsTo('/2/files/download', 'POST');
    expect(resumed.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(String(resumed.headers.range))![0])).toBeGreaterThan(0);
    expect(resumed.headers['dropbox-api-arg']).toBe(cut.headers['dropbox-api-arg']);
    expect(resumed.status).toBe(206);
  });

  it('a cursor Dropbox reset makes a full run', async () => {
    const first = await collect(connector, 'files', token());
    dropbox.resetCursors();
    dropbox.requests.length = 0;
    const again = await collect(connector, 'files', { ...token(), cursor: first.cursor });
    expect(again.items).toHaveLength(first.items.length);
    expect(dropbox.requests[0]).toMatchObject({ path: '/2/files/list_folder/continue', status: 409 });
    expect(dropbox.requests[1].path).toBe('/2/files/list_folder');
    expect(dropbox.requests.every((r) => r.status !== 409 || r === dropbox.requests[0])).toBe(true);
  });

  it('lists shared links across pages', async () => {
    const { items } = await collect(connector, 'shared_links', token());
    expect(items.map((i) => json(i).name).sort()).toEqual([big.name, notes[0].name, notes[1].name].sort());
    expect(dropbox.requestsTo('/2/sharing/list_shared_links', 'POST').length).toBeGreaterThanOrEqual(2);
  });

  it('waits out a 429 too_many_requests for its Retry-After', async () => {
    dropbox.requests.length = 0;
    dropbox.failNext({ status: 429, match: (r) => r.path === '/2/sharing/list_shared_links' });
    const { items } = await collect(connector, 'shared_links', token());
    expect(items).toHaveLength(3);
    const [limited, retried] = dropbox.requests;
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(dropbox.earlyRetries).toEqual([]);
  });

  it('refreshes an expired short-lived token once; a refused one is a CONFIG failure', async () => {
    const expired = tokenCredentials('accessToken', 'sl.expired', 'sl.valid');
    const { items } = await collect(connector, 'shared_links', expired);
    expect(items).toHaveLength(3);
    expect(expired.state.refreshes).toBe(1);
    const revoked = tokenCredentials('accessToken', 'sl.revoked', 'sl.revoked-too');
    const error = await collect(connector, 'shared_links', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, platformCode: 'invalid_access_token' });
    expect(revoked.state.refreshes).toBe(1);
  });

  it('cannot restore: files are exported instead', () => {
    expect(connector.resources.every((r) => r.restorable === false)).toBe(true);
    expect(connector.resources.find((r) => r.name === 'files')).toMatchObject({ binaryContent: true, incremental: true });
  });
});
