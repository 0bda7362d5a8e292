import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGoogleDriveConnector } from './connector.ts';
import { AuthError, type ConnectorItem, fetchResource, RateLimitedError, readAll } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { FakeDrive, FOLDER, GOOGLE_DOC } from './fake.ts';
import { collect, FAST_RETRY, tokenCredentials } from '../testing/connector-run.ts';

const MB = 1024 * 1024;

describe('Google Drive connector', () => {
  const drive = new FakeDrive();
  let connector: ReturnType<typeof createGoogleDriveConnector>;
  const token = () => tokenCredentials('accessToken', 'ya29.valid');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await drive.start();
    connector = createGoogleDriveConnector({ baseUrl: `${drive.url}/drive/v3` });
    const projects = drive.add('Projects', FOLDER);
    const year = drive.add('2024', FOLDER, { parent: projects.id });
    const bulk = drive.add('Bulk', FOLDER);
    ids.report = drive.add('report.pdf', 'application/pdf', { parent: year.id, size: 300_000 }).id;
    ids.plan = drive.add('Plan', GOOGLE_DOC, { parent: projects.id }).id;
    ids.form = drive.add('Survey', 'application/vnd.google-apps.form').id;
    ids.trashed = drive.add('old.txt', 'text/plain').id;
    drive.modify(ids.trashed, { trashed: true });
    ids.shared = drive.add('from-a-friend.txt', 'text/plain', { parent: '' }).id;
    ids.big = drive.add('video.mp4', 'video/mp4', { size: 20 * MB }).id;
    for (let i = 0; i < 2100; i++) drive.add(`note-${i}.txt`, 'text/plain', { parent: bulk.id, size: 64 });
  });
  afterAll(() => drive.close());

  async function list(init: Parameters<typeof fetchResource>[2]): Promise<{ items: ConnectorItem[]; cursor: unknown }> {
    const run = fetchResource(connector, 'files', { retry: FAST_RETRY, ...init });
    const items: ConnectorItem[] = [];
    for await (const item of run) items.push(item);
    return { items, cursor: run.cursor };
  }

  it('lists every file across pages with pageToken, with folder paths, exporting Docs and skipping what has no content', async () => {
    drive.requests.length = 0;
    const { items } = await list(token());
    expect(items).toHaveLength(2100 + 4);
    const listings = drive.requestsTo('/drive/v3/files').filter((r) => r.path === '/drive/v3/files' && r.query.get('q')!.startsWith('mimeType !='));
    expect(listings).toHaveLength(3);
    expect(listings[0].query.get('pageToken')).toBeNull();
    expect(listings[1].query.get('pageToken')).toBeTruthy();
    expect(listings[0].query.get('fields')).toContain('nextPageToken');
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(byId.get(ids.report)!.path).toBe('My Drive/Projects/2024/report.pdf');
    expect(byId.get(ids.report)!.size).toBe(300_000);
    expect(byId.get(ids.plan)!.path).toBe('My Drive/Projects/Plan.docx');
    expect(byId.get(ids.shared)!.path).toBe('Shared with me/from-a-friend.txt');
    expect(byId.has(ids.form)).toBe(false);
    expect(byId.has(ids.trashed)).toBe(false);
    expect(items.filter((i) => i.path.startsWith('My Drive/Bulk/note-'))).toHaveLength(2100);
  });

  it('reads file contents with alt=media and Docs through export', async () => {
    const { items } = await list(token());
    const report = items.find((i) => i.id === ids.report)!;
    const bytes = await readAll(report.content());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(generatedSha256(ids.report, 300_000));
    expect(drive.requests.at(-1)!.query.get('alt')).toBe('media');

    const plan = items.find((i) => i.id === ids.plan)!;
    const exported = await readAll(plan.content());
    const file = drive.files.find((f) => f.id === ids.plan)!;
    expect(exported.equals(drive.exported(file, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'))).toBe(true);
  });

  it('streams a 20 MB file in many chunks without holding it whole', async () => {
    const { items } = await list(token());
    const big = items.find((i) => i.id === ids.big)!;
    const hash = createHash('sha256');
    let chunks = 0;
    let largest = 0;
    let total = 0;
    let sentWhenFirstArrived = -1;
    for await (const chunk of big.content()) {
      if (chunks === 0) {
        await sleep(200); // let the server write as much as backpressure allows
        sentWhenFirstArrived = drive.sent.get(ids.big)!;
      }
      chunks++;
      largest = Math.max(largest, chunk.byteLength);
      total += chunk.byteLength;
      hash.update(chunk);
    }
    expect(total).toBe(20 * MB);
    expect(hash.digest('hex')).toBe(generatedSha256(ids.big, 20 * MB));
    expect(chunks).toBeGreaterThan(100);
    expect(largest).toBeLessThanOrEqual(MB);
    // while the reader sat on its first chunk, the server could not push the whole file
    expect(sentWhenFirstArrived).toBeLessThan(16 * MB);
  });

  it('an abort in the middle of a download stops it with an AbortError', async () => {
    const controller = new AbortController();
    const { items } = await list({ ...token(), signal: controller.signal });
    const big = items.find((i) => i.id === ids.big)!;
    let received = 0;
    const error = await (async () => {
      for await (const chunk of big.content()) {
        received += chunk.byteLength;
        if (received > MB) controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(received).toBeLessThan(20 * MB);
  });

  it('resumes a download cut mid-stream with Range, and the bytes are identical', async () => {
    const { items } = await list(token());
    const report = items.find((i) => i.id === ids.report)!;
    drive.requests.length = 0;
    drive.interruptions.set(ids.report, 123_457);
    const bytes = await readAll(report.content());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(generatedSha256(ids.report, 300_000));
    const downloads = drive.requests.filter((r) => r.query.get('alt') === 'media');
    expect(downloads).toHaveLength(2);
    expect(downloads[1].headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(downloads[1].headers.range!.slice(6, -1))).toBeLessThanOrEqual(123_457);
    expect(downloads[1].status).toBe(206);
    expect(downloads[1].headers['if-range']).toBe(`"${drive.files.find((f) => f.id === ids.report)!.md5Checksum}"`);
  });

  it('a second run with the cursor lists only files modified since', async () => {
    const first = await list(token());
    drive.advance(5_000);
    drive.modify(ids.report, { seed: 'v2', size: 1234 });
    const added = drive.add('new.txt', 'text/plain', { size: 10 });
    drive.modify(ids.shared, { trashed: true });
    drive.requests.length = 0;
    const second = await collect(connector, 'files', { ...token(), cursor: first.cursor as never });
    expect(second.items.map((i) => i.path).sort()).toEqual(['My Drive/Projects/2024/report.pdf', 'My Drive/new.txt']);
    expect(second.items.find((i) => i.id === ids.report)!.body.length).toBe(1234);
    expect(second.items.find((i) => i.id === added.id)!.body.length).toBe(10);
    const q = drive.requestsTo('/drive/v3/files').find((r) => r.path === '/drive/v3/files' && r.query.get('q')!.startsWith('mimeType !='))!.query.get('q');
    expect(q).toContain(`modifiedTime >= '${(first.cursor as { at: string }).at}'`);
    const third = await list({ ...token(), cursor: second.cursor as never });
    expect(third.items).toEqual([]);
  });

  it('backs off on 403 userRateLimitExceeded; a daily quota is RATE_LIMITED at once with retryAfterMs', async () => {
    drive.requests.length = 0;
    drive.failNext({ status: 403, reason: 'userRateLimitExceeded', times: 2 });
    expect((await list(token())).items.length).toBeGreaterThan(2000);
    expect(drive.requests.slice(0, 3).map((r) => r.status)).toEqual([403, 403, 200]);

    drive.failNext({ status: 403, reason: 'dailyLimitExceeded' });
    const error = await list(token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ failureType: 'RATE_LIMITED', platformCode: 'dailyLimitExceeded' });
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(3600_000);
  });

  it('refreshes an expired access token once; a refused one is an AuthError (CONFIG)', async () => {
    drive.requests.length = 0;
    const expired = tokenCredentials('accessToken', 'ya29.expired', 'ya29.valid');
    const { items } = await list(expired);
    const big = items.find((i) => i.id === ids.report)!;
    expect((await readAll(big.content())).length).toBeGreaterThan(0);
    expect(expired.state.refreshes).toBe(1);
    expect(drive.requests[0]).toMatchObject({ status: 401 });
    expect(drive.requests[1].headers.authorization).toBe('Bearer ya29.valid');

    const revoked = tokenCredentials('accessToken', 'ya29.revoked', 'ya29.revoked.too');
    const error = await list(revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, platformCode: 'authError' });
    expect((error as Error).message).toContain('Request had invalid authentication credentials');
    expect(revoked.state.refreshes).toBe(1);
  });
});
