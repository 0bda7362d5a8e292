import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, type ConnectorItem, fetchResource, resetPacing } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createBoxConnector } from './connector.ts';
import { FakeBox, type FakeBoxFile, type FakeBoxFolder } from './fake.ts';

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

describe('Box connector', () => {
  const box = new FakeBox();
  let connector: ReturnType<typeof createBoxConnector>;
  const token = () => tokenCredentials('accessToken', 'box-valid');
  let photos: FakeBoxFolder;
  let work: FakeBoxFolder;
  let reports: FakeBoxFolder;
  let big: FakeBoxFile;
  const notes: FakeBoxFile[] = [];

  beforeAll(async () => {
    await box.start();
    connector = createBoxConnector({ baseUrl: `${box.url}/2.0` });
    box.maxPage = 50;
    photos = box.addFolder('Photos');
    work = box.addFolder('Work');
    reports = box.addFolder('Reports', work.id);
    for (let i = 0; i < 120; i++) notes.push(box.putFile(`Report ${i}.txt`, reports.id, 100 + i));
    big = box.putFile('Holiday – Été.mp4', photos.id, 2 * 1024 * 1024 + 5);
    box.putFile('Plan.docx', work.id, 300);
    box.addCollaboration(work, 'bob@example.com');
    box.addCollaboration(reports, 'carol@example.com', 'viewer');
  });
  afterAll(() => box.close());
  beforeEach(() => {
    resetPacing();
    box.requests.length = 0;
  });

  it('walks every folder with marker paging and streams each file’s content, pinned to its version', async () => {
    const { items, cursor } = await collect(connector, 'files', token());
    expect(items).toHaveLength(122);
    expect(box.requests[0]).toMatchObject({ path: '/2.0/events' });
    expect(box.requests[0].query.get('stream_position')).toBe('now');
    const listings = box.requestsTo('/2.0/folders/').filter((r) => r.path.endsWith('/items'));
    const ofReports = listings.filter((r) => r.path === `/2.0/folders/${reports.id}/items`);
    // 120 files, 50 a page
    expect(ofReports.map((r) => r.query.get('marker') !== null)).toEqual([false, true, true]);
    expect(listings.every((r) => r.query.get('usemarker') === 'true' && r.query.get('limit') === '1000')).toBe(true);
    const video = items.find((i) => i.id === big.id)!;
    expect(video.path).toBe('files/Photos/Holiday – Été.mp4');
    expect(sha256(video.body)).toBe(generatedSha256(box.seedOf(big), big.size));
    const report = items.find((i) => i.id === notes[7].id)!;
    expect(report.path).toBe('files/Work/Reports/Report 7.txt');
    expect(sha256(report.body)).toBe(generatedSha256(box.seedOf(notes[7]), notes[7].size));
    const downloads = box.requestsTo(`/2.0/files/${big.id}/content`);
    expect(downloads.map((r) => [r.status, r.query.get('version')])).toEqual([[302, big.file_version.id]]);
    expect(box.requestsTo(`/download/${big.id}/`).map((r) => [r.status, r.path])).toEqual([[200, `/download/${big.id}/${big.file_version.id}`]]);
    expect(cursor).toEqual({ streamPosition: expect.any(String) });
  });

  it('gives each file its sha1 as change marker, and its size', async () => {
    const found: ConnectorItem[] = [];
    for await (const item of fetchResource(connector, 'files', token())) found.push(item);
    expect(found.find((i) => i.id === big.id)).toMatchObject({ changeMarker: big.sha1, size: big.size, metadata: { etag: big.etag, versionId: big.file_version.id } });
  });

  it('a second run reads the changes stream from the cursor: changed files, and a renamed folder’s files under their new path; a third gets nothing', async () => {
    const first = await collect(connector, 'files', token());
    const position = (first.cursor as { streamPosition: string }).streamPosition;
    const replaced = box.putFile('Report 3.txt', reports.id, 77);
    const added = box.putFile('New.txt', photos.id, 42);
    box.trash(notes[4]);
    box.rename(work, 'Work 2026');
    box.requests.length = 0;
    const second = await collect(connector, 'files', { ...token(), cursor: first.cursor });
    const events = box.requestsTo('/2.0/events');
    expect(events[0].query.get('stream_position')).toBe(position);
    expect(events.every((r) => r.query.get('stream_type') === 'changes')).toBe(true);
    // Everything under the renamed folder, at its new path, and the new file; not the trashed one.
    expect(second.items).toHaveLength(1 + 120 - 1 + 1);
    expect(second.items.some((i) => i.id === notes[4].id)).toBe(false);
    expect(second.items.find((i) => i.id === replaced.id)!.path).toBe('files/Work 2026/Reports/Report 3.txt');
    expect(sha256(second.items.find((i) => i.id === replaced.id)!.body)).toBe(generatedSha256(box.seedOf(replaced), 77));
    expect(second.items.find((i) => i.id === added.id)!.path).toBe('files/Photos/New.txt');
    expect(second.items.some((i) => i.id === big.id)).toBe(false);

    box.requests.length = 0;
    const third = await collect(connector, 'files', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
    expect(box.requestsTo('/2.0/files/')).toEqual([]);
    const lone = box.putFile('Lone.txt', photos.id, 9);
    const fourth = await collect(connector, 'files', { ...token(), cursor: third.cursor });
    expect(fourth.items.map((i) => [i.id, i.path])).toEqual([[lone.id, 'files/Photos/Lone.txt']]);
  });

  it('lists each folder’s collaborations', async () => {
    const { items } = await collect(connector, 'collaborations', token());
    expect(items.map((i) => [i.path.split('/').slice(0, -1).join('/'), i.metadata.login, i.metadata.role])).toEqual([
      ['collaborations/Work 2026', 'bob@example.com', 'editor'],
      ['collaborations/Work 2026/Reports', 'carol@example.com', 'viewer'],
    ]);
    expect(json(items[0])).toMatchObject({ type: 'collaboration', accessible_by: { login: 'bob@example.com' } });
  });

  it('waits out a 429 rate_limit_exceeded for its Retry-After', async () => {
    box.failNext({ status: 429, match: (r) => r.path.endsWith('/collaborations') });
    const { items } = await collect(connector, 'collaborations', token());
    expect(items).toHaveLength(2);
    const [limited, retried] = box.requests.filter((r) => r.path.endsWith('/collaborations'));
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(box.earlyRetries).toEqual([]);
  });

  it('refreshes an expired token once; a refused one is an AuthError, and error bodies surface', async () => {
    const expired = tokenCredentials('accessToken', 'box-expired', 'box-valid');
    const { items } = await collect(connector, 'collaborations', expired);
    expect(items).toHaveLength(2);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'box-revoked', 'box-revoked-too');
    const error = await collect(connector, 'collaborations', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401 });
    expect(revoked.state.refreshes).toBe(1);

    box.failNext({ status: 403, match: (r) => r.path.endsWith('/items') });
    const forbidden = await collect(connector, 'files', token()).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ConfigError);
    expect(forbidden).toMatchObject({ status: 403, platformCode: 'access_denied_insufficient_permissions', message: 'Box answered 403: Access denied - insufficient permission' });
  });

  it('cannot restore: files are exported instead', () => {
    expect(connector.resources.every((r) => r.restorable === false)).toBe(true);
    expect(connector.resources.find((r) => r.name === 'files')).toMatchObject({ binaryContent: true, incremental: true });
  });
});
