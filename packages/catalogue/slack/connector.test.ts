import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, type ConnectorItem, fetchResource } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createSlackConnector } from './connector.ts';
import { FakeSlack, type FakeChannel, type FakeMessage, SLACK_TIERS } from './fake.ts';

describe('Slack connector', () => {
  const slack = new FakeSlack();
  let connector: ReturnType<typeof createSlackConnector>;
  const token = () => tokenCredentials('accessToken', 'xoxe.xoxb-valid');
  let general: FakeChannel;
  let secret: FakeChannel;
  let thread: FakeMessage;

  beforeAll(async () => {
    await slack.start();
    connector = createSlackConnector({ baseUrl: `${slack.url}/api` });
    slack.maxPage['conversations.list'] = 2;
    general = slack.addChannel('general');
    slack.addChannel('random');
    slack.addChannel('old-project', { archived: true });
    secret = slack.addChannel('leadership', { private: true, member: false });
    slack.addChannel('eng/backend', { private: true });
    for (let i = 0; i < 250; i++) slack.post(general.id, `message ${i}`);
    thread = slack.post(general.id, 'a question');
    for (let i = 0; i < 3; i++) slack.reply(general.id, thread, `answer ${i}`);
    for (let i = 0; i < 230; i++) slack.addMember(`person${i}`);
    for (let i = 0; i < 120; i++) slack.addFile(`note-${i}.txt`, { size: 64, channel: general.id, mimetype: 'text/plain' });
    slack.addFile('recording.mp4', { size: 3 * 1024 * 1024, channel: general.id, mimetype: 'video/mp4' });
  });
  afterAll(() => slack.close());

  it('lists every channel, archived and private ones included, following next_cursor', async () => {
    slack.requests.length = 0;
    const { items } = await collect(connector, 'channels', token());
    expect(items.map((i) => i.path).sort()).toEqual(['channels/eng_backend.json', 'channels/general.json', 'channels/leadership.json', 'channels/old-project.json', 'channels/random.json']);
    const pages = slack.requestsTo('/api/conversations.list');
    expect(pages).toHaveLength(3);
    expect(pages[0].query.get('cursor')).toBeNull();
    expect(pages[1].query.get('cursor')).toBeTruthy();
    expect(pages.every((r) => r.query.get('types') === 'public_channel,private_channel' && r.query.get('exclude_archived') === 'false')).toBe(true);
    expect(pages.every((r) => r.headers.authorization === 'Bearer xoxe.xoxb-valid')).toBe(true);
    expect(json(items.find((i) => i.id === general.id)!)).toMatchObject({ id: general.id, name: 'general', topic: { value: 'All about general' } });
  });

  it('backs up history across pages, each thread with its replies; a channel the app is not in is skipped', async () => {
    slack.requests.length = 0;
    const { items, cursor } = await collect(connector, 'messages', token());
    const inGeneral = items.filter((i) => i.metadata.channel === general.id);
    expect(inGeneral).toHaveLength(251);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(slack.requestsTo('/api/conversations.history').filter((r) => r.query.get('channel') === general.id)).toHaveLength(2);
    expect(slack.requestsTo('/api/conversations.history').some((r) => r.query.get('channel') === secret.id)).toBe(false);
    const question = items.find((i) => i.id === `${general.id}/${thread.ts}`)!;
    expect(question.path).toBe(`messages/general/${thread.ts}.json`);
    expect(json(question).replies.map((r: FakeMessage) => r.text)).toEqual(['answer 0', 'answer 1', 'answer 2']);
    expect(slack.requestsTo('/api/conversations.replies')).toHaveLength(1);
    expect(cursor).toEqual({ channels: { [general.id]: thread.ts } });
  });

  it('a second run asks for history after the newest ts it saw and gets only new messages', async () => {
    const first = await collect(connector, 'messages', token());
    const added = [slack.post(general.id, 'news'), slack.post(general.id, 'more news')];
    slack.requests.length = 0;
    const second = await collect(connector, 'messages', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => json(i).text)).toEqual(['more news', 'news']);
    const history = slack.requestsTo('/api/conversations.history').find((r) => r.query.get('channel') === general.id)!;
    expect(history.query.get('oldest')).toBe(thread.ts);
    expect(second.cursor).toEqual({ channels: { [general.id]: added[1].ts } });
    const third = await collect(connector, 'messages', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('lists members across pages with their update time as change marker', async () => {
    slack.requests.length = 0;
    const run = await collect(connector, 'users', token());
    expect(run.items).toHaveLength(230);
    expect(slack.requestsTo('/api/users.list')).toHaveLength(2);
    expect(slack.requestsTo('/api/users.list').every((r) => r.query.get('limit') === '200')).toBe(true);
    const fetched: ConnectorItem[] = [];
    for await (const item of fetchResource(connector, 'users', token())) fetched.push(item);
    expect(fetched[0].changeMarker).toBe(String(slack.members[0].updated));
  });

  it('pages files with count and page, streams their contents, and a second run asks ts_from', async () => {
    slack.requests.length = 0;
    const first = await collect(connector, 'files', token());
    expect(first.items).toHaveLength(121);
    expect(slack.requestsTo('/api/files.list').map((r) => r.query.get('page'))).toEqual(['1', '2']);
    const video = first.items.find((i) => i.path.endsWith('recording.mp4'))!;
    const file = slack.files.find((f) => f.name === 'recording.mp4')!;
    expect(createHash('sha256').update(video.body).digest('hex')).toBe(generatedSha256(file.seed, file.size));
    expect(slack.requestsTo('/files-pri/').every((r) => r.headers.authorization === 'Bearer xoxe.xoxb-valid')).toBe(true);

    slack.advance(2_000);
    const added = slack.addFile('later.pdf', { size: 10 });
    slack.requests.length = 0;
    const second = await collect(connector, 'files', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id)).toEqual([added.id]);
    expect(slack.requestsTo('/api/files.list')[0].query.get('ts_from')).toBe(String((first.cursor as { at: number }).at));
  });

  it('waits out a 429 for its Retry-After before asking again', async () => {
    slack.requests.length = 0;
    slack.failNext({ status: 429, headers: { 'retry-after': '1' }, match: (r) => r.path === '/api/users.list' });
    const { items } = await collect(connector, 'users', token());
    expect(items).toHaveLength(230);
    const [limited, retried] = slack.requestsTo('/api/users.list');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(slack.earlyRetries).toEqual([]);
  });

  it('refreshes an expired token once; a refused one is a CONFIG failure that says to reconnect', async () => {
    const expired = tokenCredentials('accessToken', 'xoxe.xoxb-expired', 'xoxe.xoxb-valid');
    const { items } = await collect(connector, 'channels', expired);
    expect(items).toHaveLength(5);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'xoxb-revoked', 'xoxb-revoked-too');
    const error = await collect(connector, 'channels', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', platformCode: 'invalid_auth' });
    expect((error as Error).message).toMatch(/Slack refused the token \(invalid_auth\): reconnect the workspace/);
    expect(revoked.state.refreshes).toBe(1);
  });

  it('a missing scope is a CONFIG failure naming the scope', async () => {
    slack.failNext({ status: 200, body: { ok: false, error: 'missing_scope', needed: 'files:read', provided: 'channels:read' }, match: (r) => r.path === '/api/files.list' });
    const error = await collect(connector, 'files', token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('files:read');
  });

  it('keeps every method within its tier: no request over the limit in the whole run', () => {
    expect(slack.overLimit).toEqual([]);
    const rate = connector.http!.rate!;
    for (const [method, limit] of Object.entries(SLACK_TIERS)) {
      expect(rate({ method: 'GET', url: new URL(`${slack.url}/api/${method}`) })).toEqual({ key: method, limit, intervalMs: 60_000 });
    }
  });
});
