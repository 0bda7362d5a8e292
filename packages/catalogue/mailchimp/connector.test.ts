import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, resetPacing } from '../sdk/index.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createMailchimpConnector } from './connector.ts';
import { FakeMailchimp } from './fake.ts';

const API_KEY = '0123456789abcdef0123456789abcdef-us21';

describe('Mailchimp connector', () => {
  const mailchimp = new FakeMailchimp();
  let connector: ReturnType<typeof createMailchimpConnector>;
  const token = () => tokenCredentials('accessToken', 'mc-oauth-valid');
  let newsletter: Record<string, any>;
  let customers: Record<string, any>;

  beforeAll(async () => {
    await mailchimp.start();
    connector = createMailchimpConnector({ baseUrl: `${mailchimp.url}/3.0` });
    newsletter = mailchimp.addList('Newsletter');
    customers = mailchimp.addList('Customers');
    for (let i = 1; i <= 2300; i++) mailchimp.addMember(newsletter, `reader${i}@example.com`);
    for (let i = 1; i <= 5; i++) mailchimp.addMember(customers, `buyer${i}@example.com`, { status: i === 5 ? 'archived' : 'subscribed' });
    mailchimp.addCampaign(newsletter, 'Spring sale', '<h1>Spring</h1><p>20% off</p>');
    mailchimp.addCampaign(customers, 'Thank you', '<p>Thanks</p>');
    mailchimp.addTemplate('Plain', '<html><body>*|MC:SUBJECT|*</body></html>');
  });
  afterAll(() => mailchimp.close());
  beforeEach(() => {
    resetPacing();
    mailchimp.advance(2000);
    mailchimp.requests.length = 0;
  });

  it('lists audiences with their merge fields, and every member 1,000 a page until total_items', async () => {
    const expected: unknown[] = [];
    const lists = await collect(connector, 'lists', { ...token(), onExpect: (size) => expected.push(size) });
    expect(lists.items.map((i) => i.metadata.name)).toEqual(['Newsletter', 'Customers']);
    // total_items says how many audiences the run yields.
    expect(expected).toEqual([{ items: 2, estimated: false }]);
    expect(json(lists.items[0]).merge_fields.map((f: { tag: string }) => f.tag)).toEqual(['FNAME', 'LNAME']);
    expect(mailchimp.requests.every((r) => r.headers.authorization === 'OAuth mc-oauth-valid')).toBe(true);

    const members = await collect(connector, 'members', token());
    expect(members.items).toHaveLength(2305);
    const pages = mailchimp.requestsTo(`/3.0/lists/${newsletter.id}/members`);
    expect(pages.map((r) => [r.query.get('count'), r.query.get('offset')])).toEqual([['1000', '0'], ['1000', '1000'], ['1000', '2000']]);
    expect(pages.every((r) => r.query.get('since_last_changed') === null && r.query.get('sort_field') === null)).toBe(true);
    const archived = members.items.find((i) => i.metadata.email === 'buyer5@example.com')!;
    expect(archived.path).toBe('members/Customers/buyer5@example.com.json');
    expect(json(archived)).toMatchObject({ status: 'archived', merge_fields: { FNAME: 'buyer5' } });
  });

  it('a second run asks each audience for members changed since the previous listing began; a third gets nothing', async () => {
    const first = await collect(connector, 'members', token());
    const changed = mailchimp.members.get(newsletter.id)![1200];
    mailchimp.editMember(changed, { merge_fields: { FNAME: 'Renamed', LNAME: '' } });
    const joined = mailchimp.addMember(customers, 'late@example.com');
    mailchimp.advance(2000);
    mailchimp.requests.length = 0;
    const second = await collect(connector, 'members', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.metadata.email).sort()).toEqual([changed.email_address, joined.email_address].sort());
    expect(json(second.items.find((i) => i.metadata.email === changed.email_address)!).merge_fields.FNAME).toBe('Renamed');
    // A second before the first page of the previous listing was answered, by Mailchimp's clock.
    const since = (first.cursor as { lists: Record<string, string> }).lists[newsletter.id];
    expect(Date.parse(since)).toBeLessThan(Date.parse(changed.last_changed));
    expect(mailchimp.requestsTo(`/3.0/lists/${newsletter.id}/members`).map((r) => r.query.get('since_last_changed'))).toEqual([since]);

    mailchimp.requests.length = 0;
    const third = await collect(connector, 'members', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
    expect(mailchimp.requestsTo(`/3.0/lists/${newsletter.id}/members`)).toHaveLength(1);
  });

  it('reads each campaign’s content and each template’s, with an API key as Basic authentication', async () => {
    const key = tokenCredentials('apiKey', API_KEY);
    const campaigns = await collect(connector, 'campaigns', key);
    expect(campaigns.items.map((i) => json(i).content.html)).toEqual(['<h1>Spring</h1><p>20% off</p>', '<p>Thanks</p>']);
    const templates = await collect(connector, 'templates', key);
    expect(json(templates.items[0])).toMatchObject({ name: 'Plain', content: { html: '<html><body>*|MC:SUBJECT|*</body></html>' } });
    expect(mailchimp.requests.every((r) => r.headers.authorization === `Basic ${Buffer.from(`listbackup:${API_KEY}`).toString('base64')}`)).toBe(true);
  });

  it('tries a 429 Too Many Requests again after a wait', async () => {
    mailchimp.failNext({ status: 429, match: (r) => r.path === '/3.0/campaigns' });
    const { items } = await collect(connector, 'campaigns', token());
    expect(items).toHaveLength(2);
    const [limited, retried] = mailchimp.requestsTo('/3.0/campaigns');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.seq).toBeGreaterThan(limited.seq);
  });

  it('reads the credentials once more on a 401, then an AuthError; problem details surface', async () => {
    const replaced = tokenCredentials('accessToken', 'mc-oauth-old', 'mc-oauth-valid');
    expect((await collect(connector, 'templates', replaced)).items).toHaveLength(1);
    expect(replaced.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'mc-oauth-revoked');
    const error = await collect(connector, 'templates', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401, platformCode: 'API Key Invalid', message: "Mailchimp answered 401: API Key Invalid: Your API key may be invalid, or you've attempted to access the wrong datacenter." });
    expect(revoked.state.refreshes).toBe(1);

    mailchimp.failNext({ status: 404, match: (r) => r.path.endsWith('/content') });
    const missing = await collect(connector, 'campaigns', token()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing).toMatchObject({ status: 404, platformCode: 'Resource Not Found', message: 'Mailchimp answered 404: Resource Not Found: The requested resource could not be found.' });
  });

  it('cannot restore: audiences and campaigns are exported instead', () => {
    expect(connector.restore).toBeUndefined();
    expect(connector.resources.find((r) => r.name === 'members')).toMatchObject({ incremental: true, restorable: false });
  });
});
