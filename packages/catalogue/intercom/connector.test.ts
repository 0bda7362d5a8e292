import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, PlatformError, resetPacing } from '../sdk/index.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createIntercomConnector } from './connector.ts';
import { FakeIntercom, INTERCOM_VERSION, VALID_TOKEN } from './fake.ts';

describe('Intercom connector', () => {
  const intercom = new FakeIntercom();
  let connector: ReturnType<typeof createIntercomConnector>;
  const token = () => tokenCredentials('accessToken', VALID_TOKEN);

  beforeAll(async () => {
    await intercom.start();
    connector = createIntercomConnector({ baseUrl: intercom.url });
    for (let i = 1; i <= 160; i++) intercom.addContact(`Contact ${i}`, i % 3 === 0 ? 'lead' : 'user');
    for (let i = 1; i <= 120; i++) intercom.addCompany(`Company ${i}`);
    for (let i = 1; i <= 155; i++) intercom.addTicket(`Ticket ${i}`);
    for (let i = 1; i <= 3; i++) intercom.addConversation(`Conversation ${i}`, [`Reply ${i}.1`, `Reply ${i}.2`]);
    for (let i = 1; i <= 60; i++) intercom.addArticle(`Article ${i}`);
  });
  afterAll(() => intercom.close());
  beforeEach(() => {
    resetPacing();
    intercom.advance(5_000);
    intercom.requests.length = 0;
  });

  it('lists contacts with per_page and starting_after, and a next run searches updated_at for only what changed', async () => {
    const first = await collect(connector, 'contacts', token());
    expect(first.items).toHaveLength(160);
    const pages = intercom.requestsTo('/contacts');
    expect(pages.map((r) => [r.query.get('per_page'), r.query.get('starting_after') !== null])).toEqual([['150', false], ['150', true]]);
    expect(pages.every((r) => r.headers['intercom-version'] === INTERCOM_VERSION && r.headers.authorization === `Bearer ${VALID_TOKEN}`)).toBe(true);
    expect(first.items.find((i) => i.metadata.name === 'Contact 3')!.metadata.role).toBe('lead');

    intercom.edit(intercom.contacts[6], { name: 'Contact 7, renamed' });
    intercom.addContact('Newcomer');
    const second = await collect(connector, 'contacts', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.metadata.name)).toEqual(['Contact 7, renamed', 'Newcomer']);
    const [search] = intercom.requestsTo('/contacts/search', 'POST');
    expect(JSON.parse(search.body)).toEqual({ query: { field: 'updated_at', operator: '>', value: (first.cursor as { mark: { at: number } }).mark.at - 1 }, pagination: { per_page: 150 } });
    const third = await collect(connector, 'contacts', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('reads each conversation whole with its parts; tickets come from the search, paged, and incrementally', async () => {
    const conversations = await collect(connector, 'conversations', token());
    expect(conversations.items.map((i) => json(i).conversation_parts.conversation_parts.map((p: { body: string }) => p.body))).toEqual([
      ['<p>Reply 1.1</p>', '<p>Reply 1.2</p>'],
      ['<p>Reply 2.1</p>', '<p>Reply 2.2</p>'],
      ['<p>Reply 3.1</p>', '<p>Reply 3.2</p>'],
    ]);
    expect(intercom.requestsTo('/conversations/')).toHaveLength(3);

    const tickets = await collect(connector, 'tickets', token());
    expect(tickets.items).toHaveLength(155);
    const searches = intercom.requestsTo('/tickets/search', 'POST').map((r) => JSON.parse(r.body));
    expect(searches.map((b) => b.pagination.starting_after !== undefined)).toEqual([false, true]);

    intercom.addPart(intercom.conversations[1].id, 'Reply 2.3');
    intercom.edit(intercom.tickets[10], { ticket_state: 'resolved' });
    const conversations2 = await collect(connector, 'conversations', { ...token(), cursor: conversations.cursor });
    expect(conversations2.items.map((i) => [i.metadata.title, i.metadata.parts])).toEqual([['Conversation 2', 3]]);
    const tickets2 = await collect(connector, 'tickets', { ...token(), cursor: tickets.cursor });
    expect(tickets2.items.map((i) => i.metadata.state)).toEqual(['resolved']);
  });

  it('scrolls companies until an empty page and pages articles to total_pages', async () => {
    const companies = await collect(connector, 'companies', token());
    expect(companies.items).toHaveLength(120);
    expect(intercom.requestsTo('/companies/scroll').map((r) => r.query.get('scroll_param') !== null)).toEqual([false, true, true, true]);
    const articles = await collect(connector, 'articles', token());
    expect(articles.items.map((i) => i.metadata.title)).toEqual(Array.from({ length: 60 }, (_, i) => `Article ${i + 1}`));
    expect(intercom.requestsTo('/articles').map((r) => r.query.get('page'))).toEqual(['1', '2']);
  });

  it('holds requests until X-RateLimit-Reset once none remain, and a 429 waits for the reset', async () => {
    intercom.setRateLimit(1, 2);
    const resetAt = intercom.rate.resetAt * 1000;
    await collect(connector, 'articles', token());
    expect(intercom.overLimit).toEqual([]);
    expect(intercom.requests[1].at).toBeGreaterThanOrEqual(resetAt);

    intercom.requests.length = 0;
    intercom.setRateLimit(0, 2);
    await collect(connector, 'articles', token());
    const [limited, retried] = intercom.requestsTo('/articles');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(intercom.earlyRetries).toEqual([]);
  });

  it('a refused token is an AuthError after one fresh read of the credentials; error bodies surface with their code', async () => {
    const revoked = tokenCredentials('accessToken', 'dG9rOjRevokedRevokedRevokedRevoked00');
    const error = await collect(connector, 'articles', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ platformCode: 'unauthorized', message: 'Intercom answered 401: Access Token Invalid' });
    expect(revoked.state.refreshes).toBe(1);

    intercom.failNext({ status: 400, match: (r) => r.path === '/companies/scroll' });
    const bad = await collect(connector, 'companies', token()).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PlatformError);
    expect(bad).toMatchObject({ platformCode: 'parameter_invalid', message: 'Intercom answered 400: Invalid parameter' });
  });
});
