import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeIntercom } from './fake.ts';

export default {
  slug: 'intercom',
  async start() {
    const definition = definitionOf('intercom');
    const intercom = await new FakeIntercom().start();
    intercom.account = new FakeAccount({
      definition,
      identity: () => ({ type: 'admin', id: '1', email: 'admin@example.com', name: 'Admin', app: { type: 'app', id_code: 'abc123', name: 'Acme', region: 'US', timezone: 'Europe/Dublin' } }),
      accept: (token) => intercom.tokens.add(token),
      refuse: (token) => intercom.tokens.delete(token),
      tokenFields: () => ({ token_type: 'Bearer' }),
      tokenPrefix: 'dG9rOj',
    });
    intercom.scrollPage = 2;
    // Made a second apart, as a workspace's are (not all at once).
    for (const name of ['Ada', 'Grace', 'Linus']) {
      intercom.addContact(name);
      intercom.advance(1_000);
    }
    intercom.addContact('Visitor', 'lead');
    for (const name of ['Acme', 'Globex', 'Initech']) intercom.addCompany(name);
    intercom.addConversation('Cannot log in', ['Have you tried again?', 'Yes', 'Fixed now']);
    intercom.addConversation('Billing question');
    intercom.addTicket('Broken export');
    for (const title of ['Getting started', 'Billing']) intercom.addArticle(title);
    return {
      apiRoot: apiRootAt(definition, intercom.url),
      account: intercom.account,
      origin: intercom.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const [resource, records] of [
          ['contacts', intercom.contacts],
          ['companies', intercom.companies],
          ['conversations', intercom.conversations],
          ['tickets', intercom.tickets],
          ['articles', intercom.articles],
        ] as const) {
          for (const record of records) served.set(`${resource}/${record.id}.json`, json(record));
        }
        return served;
      },
      incremental: {
        resource: 'contacts',
        read: () => intercom.recordsServed(/^\/contacts(\/search)?$/, (body) => body?.data),
        change() {
          intercom.advance(120_000);
          const contact = intercom.contacts[0];
          intercom.edit(contact, { name: 'Renamed' });
          return `contacts/${contact.id}.json`;
        },
      },
      close: () => intercom.close(),
    };
  },
} satisfies E2EPlatform;
