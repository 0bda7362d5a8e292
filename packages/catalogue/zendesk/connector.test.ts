import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, resetPacing, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createZendeskConnector } from './connector.ts';
import { FakeZendesk } from './fake.ts';

describe('Zendesk connector', () => {
  const zendesk = new FakeZendesk();
  let connector: ReturnType<typeof createZendeskConnector>;
  const token = () => tokenCredentials('accessToken', 'zd-valid');
  let requester: Record<string, any>;
  let withFile: Record<string, any>;
  const exportPath = '/api/v2/incremental/tickets/cursor.json';

  beforeAll(async () => {
    await zendesk.start();
    connector = createZendeskConnector({ baseUrl: `${zendesk.url}/api/v2` });
    zendesk.exportPage = 25;
    requester = zendesk.addUser('Ada Requester');
    for (let i = 1; i <= 129; i++) zendesk.addUser(`User ${i}`);
    for (let i = 1; i <= 60; i++) zendesk.addTicket(`Ticket ${i}`, requester.id, i % 5 === 0 ? { status: 'closed', tags: ['billing'] } : {});
    withFile = zendesk.tickets[2];
    zendesk.addComment(withFile.id, requester.id, 'The log', { name: 'server.log', size: 1024 * 1024 + 3, contentType: 'text/plain' });
    zendesk.addTicket('Spam', requester.id, { status: 'deleted' });
    for (let i = 1; i <= 30; i++) {
      zendesk.addOrganization(`Org ${i}`);
      zendesk.addArticle(`Article ${i}`, `<p>Body ${i}</p>`);
      zendesk.advance(1000);
    }
    for (let i = 1; i <= 105; i++) zendesk.addGroup(`Group ${i}`);
    for (const kind of ['macros', 'triggers', 'automations', 'views'] as const) zendesk.addBusinessRule(kind, `A ${kind.slice(0, -1)}`);
  });
  afterAll(() => zendesk.close());
  // Each test starts a fresh minute on both sides: the fake's windows and the connector's pacing
  // (the incremental exports allow 10 requests a minute), and the export horizon moves past what
  // the test before changed.
  const aMinutePasses = () => {
    resetPacing();
    zendesk.advance(61_000);
    zendesk.requests.length = 0;
  };
  beforeEach(aMinutePasses);

  it('exports tickets page by page with their comments and attachments; the next run from the cursor lists only what changed', async () => {
    const first = await collect(connector, 'tickets', token());
    const tickets = first.items.filter((i) => i.metadata.kind === 'ticket');
    expect(tickets).toHaveLength(60);
    expect(tickets.some((i) => i.metadata.subject === 'Spam')).toBe(false);
    const pages = zendesk.requestsTo(exportPath);
    expect(pages.map((r) => [r.query.get('start_time'), r.query.get('cursor') !== null])).toEqual([['0', false], [null, true], [null, true]]);
    expect(pages.every((r) => r.query.get('exclude_deleted') === 'true' && r.headers.authorization === 'Bearer zd-valid')).toBe(true);
    expect(json(tickets.find((i) => i.id === '5')!)).toMatchObject({ subject: 'Ticket 5', status: 'closed', tags: ['billing'], comments: [{ body: 'About Ticket 5' }] });
    const ticket = json(tickets.find((i) => i.id === String(withFile.id))!);
    expect(ticket.comments.map((c: { body: string }) => c.body)).toEqual(['About Ticket 3', 'The log']);
    const [file] = first.items.filter((i) => i.metadata.kind === 'attachment');
    expect(file.path).toBe(`tickets/${withFile.id}/attachments/${ticket.comments[1].attachments[0].id}-server.log`);
    expect(createHash('sha256').update(file.body).digest('hex')).toBe(generatedSha256(`attachment-${/token\/([^/]+)/.exec(ticket.comments[1].attachments[0].content_url)![1]}`, 1024 * 1024 + 3));

    zendesk.editTicket(7, { subject: 'Ticket 7, edited' });
    zendesk.addComment(8, requester.id, 'Any news?');
    const added = zendesk.addTicket('New ticket', requester.id);
    aMinutePasses();
    // Changed within the last minute: Zendesk exports it only once that minute has passed.
    zendesk.editTicket(9, { subject: 'Ticket 9, edited just now' });
    const second = await collect(connector, 'tickets', { ...token(), cursor: first.cursor });
    expect(zendesk.requestsTo(exportPath).map((r) => r.query.get('cursor'))).toEqual([(first.cursor as { cursor: string }).cursor]);
    expect(second.items.map((i) => i.metadata.subject).sort()).toEqual(['New ticket', 'Ticket 7, edited', 'Ticket 8']);
    expect(json(second.items.find((i) => i.id === '8')!).comments.at(-1).body).toBe('Any news?');
    expect(added.id).toBe(62);

    aMinutePasses();
    const third = await collect(connector, 'tickets', { ...token(), cursor: second.cursor });
    expect(third.items.map((i) => i.metadata.subject)).toEqual(['Ticket 9, edited just now']);
  });

  it('exports users with the cursor-based export and organizations and articles with the time-based one, each next run only what changed', async () => {
    const users = await collect(connector, 'users', token());
    expect(users.items).toHaveLength(130);
    expect(zendesk.requestsTo('/api/v2/incremental/users/cursor.json')).toHaveLength(6);
    const orgs = await collect(connector, 'organizations', token());
    expect(orgs.items.map((i) => i.metadata.name)).toEqual(Array.from({ length: 30 }, (_, i) => `Org ${i + 1}`));
    expect(zendesk.requestsTo('/api/v2/incremental/organizations.json').map((r) => r.query.get('start_time') !== null)).toEqual([true, true]);
    const articles = await collect(connector, 'articles', token());
    expect(articles.items).toHaveLength(30);
    expect(json(articles.items[0])).toMatchObject({ title: 'Article 1', body: '<p>Body 1</p>' });

    zendesk.editUser(Number(users.items[10].id), { name: 'Renamed' });
    zendesk.editOrganization(Number(orgs.items[4].id), { notes: 'VIP' });
    zendesk.editArticle(Number(articles.items[29].id), { title: 'Article 30, revised' });
    aMinutePasses();
    const users2 = await collect(connector, 'users', { ...token(), cursor: users.cursor });
    expect(users2.items.map((i) => i.metadata.name)).toEqual(['Renamed']);
    const orgs2 = await collect(connector, 'organizations', { ...token(), cursor: orgs.cursor });
    expect(orgs2.items.map((i) => json(i).notes)).toEqual(['VIP']);
    expect(Number(zendesk.requestsTo('/api/v2/incremental/organizations.json')[0].query.get('start_time'))).toBe((orgs.cursor as { mark: { at: number } }).mark.at);
    const articles2 = await collect(connector, 'articles', { ...token(), cursor: articles.cursor });
    expect(articles2.items.map((i) => i.metadata.title)).toEqual(['Article 30, revised']);
  });

  it('lists groups and business rules with page[size] and page[after] while meta.has_more', async () => {
    const groups = await collect(connector, 'groups', token());
    expect(groups.items).toHaveLength(105);
    const pages = zendesk.requestsTo('/api/v2/groups.json');
    expect(pages.map((r) => [r.query.get('page[size]'), r.query.get('page[after]') !== null])).toEqual([['100', false], ['100', true]]);
    const rules = await collect(connector, 'macros', token());
    expect(rules.items.map((i) => i.path.split('/')[1])).toEqual(['macros', 'triggers', 'automations', 'views']);
    expect(json(rules.items[0])).toMatchObject({ title: 'A macro', actions: [{ field: 'status', value: 'solved' }] });
  });

  it('holds requests until ratelimit-reset once the quota is spent, and waits out a 429 Retry-After', async () => {
    zendesk.setRateLimit(1, 2);
    const resetAt = zendesk.rate.resetAt * 1000;
    await collect(connector, 'groups', token());
    expect(zendesk.overLimit).toEqual([]);
    expect(zendesk.requests[1].at).toBeGreaterThanOrEqual(resetAt);

    zendesk.requests.length = 0;
    zendesk.failNext({ status: 429, match: (r) => r.path === '/api/v2/macros.json' });
    await collect(connector, 'macros', token());
    const [limited, retried] = zendesk.requestsTo('/api/v2/macros.json');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(zendesk.earlyRetries).toEqual([]);
  });

  it('refreshes an expired token once; a refused one is an AuthError, and error bodies surface', async () => {
    const expired = tokenCredentials('accessToken', 'zd-expired', 'zd-valid');
    const { items } = await collect(connector, 'groups', expired);
    expect(items).toHaveLength(105);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'zd-revoked', 'zd-revoked');
    const error = await collect(connector, 'groups', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe("Zendesk answered 401: Couldn't authenticate you");
    expect(revoked.state.refreshes).toBe(1);

    zendesk.failNext({ status: 403, match: (r) => r.path === '/api/v2/views.json' });
    const forbidden = await collect(connector, 'macros', token()).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ConfigError);
    expect(forbidden).toMatchObject({ status: 403, platformCode: 'Forbidden', message: expect.stringContaining('Forbidden: You do not have access to this page') });
  });

  it('restores tickets: an edited one put back, a deleted one imported with its comments, a closed one left as it is', async () => {
    const backup = await collect(connector, 'tickets', token());
    const original = (id: number) => backup.items.find((i) => i.id === String(id))!;
    zendesk.editTicket(11, { subject: 'Vandalised', tags: [] });
    const gone = zendesk.tickets.find((t) => t.id === 12)!;
    zendesk.tickets.splice(zendesk.tickets.indexOf(gone), 1);
    zendesk.editTicket(10, { subject: 'Renamed after closing' });
    const attachment = backup.items.find((i) => i.metadata.kind === 'attachment')!;
    const result = await restoreResource(connector, 'tickets', items([original(11), original(12), original(10), attachment]), { ...token(), retry: FAST_RETRY });
    expect(result.restored).toBe(2);
    expect(zendesk.tickets.find((t) => t.id === 11)).toMatchObject({ subject: 'Ticket 11', status: 'open' });
    const imported = zendesk.tickets.at(-1)!;
    expect(imported).toMatchObject({ subject: 'Ticket 12', requester_id: requester.id, status: 'open' });
    expect(zendesk.comments.get(imported.id)!.map((c) => c.body)).toEqual(['About Ticket 12']);
    expect(zendesk.tickets.find((t) => t.id === 10)!.subject).toBe('Renamed after closing');

    const error = await restoreResource(connector, 'tickets', items([original(11)]), { ...tokenCredentials('accessToken', 'zd-readonly'), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('tickets:write');
    await expect(restoreResource(connector, 'users', items([]), token())).rejects.toBeInstanceOf(ConfigError);
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
