import assert from 'node:assert/strict';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeZendesk } from './fake.ts';

export default {
  slug: 'zendesk',
  async start() {
    const definition = definitionOf('zendesk');
    const zendesk = await new FakeZendesk().start();
    zendesk.account = new FakeAccount({
      definition,
      identity: () => ({ user: { id: 1, name: 'Agent', email: 'agent@acme.example.com', role: 'admin', active: true } }),
      accept: (token) => zendesk.tokens.add(token),
      refuse: (token) => zendesk.tokens.delete(token),
    });
    const [ada, grace] = [zendesk.addUser('Ada'), zendesk.addUser('Grace')];
    zendesk.addOrganization('Acme');
    zendesk.addGroup('Support');
    for (const kind of ['macros', 'triggers', 'automations', 'views'] as const) zendesk.addBusinessRule(kind, `A ${kind.slice(0, -1)}`);
    zendesk.addArticle('How to reset a password', '<p>Click reset.</p>');
    const first = zendesk.addTicket('Cannot log in', ada.id);
    zendesk.addComment(first.id, grace.id, 'Here is the log', { name: 'log.txt', size: 5_000, contentType: 'text/plain' });
    zendesk.addTicket('Invoice missing', grace.id);
    // The exports hold nothing changed in the last minute: the records were made two minutes ago.
    zendesk.advance(120_000);
    const subjects = () => zendesk.tickets.map((ticket) => ({ id: ticket.id, subject: ticket.subject, status: ticket.status }));
    let before: unknown[] = [];
    return {
      apiRoot: apiRootAt(definition, zendesk.url),
      account: zendesk.account,
      origin: zendesk.url,
      connect: { kind: 'oauth', params: { subdomain: 'acme' } },
      served() {
        const served = new Map<string, Served>();
        for (const ticket of zendesk.tickets) {
          const comments = zendesk.comments.get(ticket.id)!;
          served.set(`tickets/${ticket.id}.json`, json({ ...ticket, comments }));
          for (const comment of comments) {
            for (const attachment of comment.attachments) served.set(`tickets/${ticket.id}/attachments/${attachment.id}-${attachment.file_name}`, Buffer.concat([...generatedBytes(`attachment-tok${comment.id}`, 0, attachment.size)]));
          }
        }
        for (const user of zendesk.users) served.set(`users/${user.id}.json`, json(user));
        for (const org of zendesk.organizations) served.set(`organizations/${org.id}.json`, json(org));
        for (const group of zendesk.groups) served.set(`groups/${group.id}.json`, json(group));
        for (const [kind, rules] of zendesk.business) for (const rule of rules) served.set(`macros/${kind}/${rule.id}.json`, json(rule));
        for (const article of zendesk.articles) served.set(`articles/${article.id}.json`, json(article));
        return served;
      },
      incremental: {
        resource: 'tickets',
        read: () => zendesk.recordsServed(/\/incremental\/tickets/, (body) => body?.tickets),
        change() {
          zendesk.advance(120_000);
          const ticket = zendesk.tickets.at(-1)!;
          zendesk.editTicket(ticket.id, { subject: 'Renamed' });
          // Zendesk exports nothing changed in the last minute.
          zendesk.advance(120_000);
          return `tickets/${ticket.id}.json`;
        },
      },
      restore: {
        resource: 'tickets',
        damage() {
          before = subjects();
          zendesk.editTicket(first.id, { subject: 'Vandalised', status: 'pending' });
        },
        check() {
          assert.deepEqual(subjects(), before);
          // Zendesk exports nothing changed in the last minute: the restore's changes are past that for the next backup.
          zendesk.advance(120_000);
        },
      },
      close: () => zendesk.close(),
    };
  },
} satisfies E2EPlatform;
