import { randomBytes } from 'node:crypto';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeMailchimp } from './fake.ts';

export default {
  slug: 'mailchimp',
  async start() {
    const definition = definitionOf('mailchimp');
    const mailchimp = await new FakeMailchimp().start();
    const apiKey = `${randomBytes(16).toString('hex')}-us21`;
    mailchimp.tokens.add(apiKey);
    mailchimp.account = new FakeAccount({
      definition,
      identity: () => ({ account_id: '8d3a3db4d97663a9074efcc16', account_name: 'Acme', email: 'owner@acme.example', login_id: '1', role: 'owner' }),
      accept: (token) => mailchimp.tokens.add(token),
      refuse: (token) => mailchimp.tokens.delete(token),
    });
    mailchimp.account.apiKeys.add(apiKey);
    const news = mailchimp.addList('Newsletter');
    for (let i = 0; i < 12; i++) mailchimp.addMember(news, `reader${i}@example.com`);
    mailchimp.addCampaign(news, 'December news', '<p>Hello <b>readers</b></p>');
    mailchimp.addTemplate('Plain', '<html><body>Template</body></html>');
    return {
      apiRoot: apiRootAt(definition, mailchimp.url),
      account: mailchimp.account,
      origin: mailchimp.url,
      connect: { kind: 'apiKey', apiKey },
      served() {
        const served = new Map<string, Served>();
        for (const list of mailchimp.lists) {
          served.set(`lists/${list.name}.json`, json({ ...list, merge_fields: mailchimp.mergeFields.get(list.id) }));
          for (const member of mailchimp.members.get(list.id)!) served.set(`members/${list.name}/${member.email_address}.json`, json(member));
        }
        for (const campaign of mailchimp.campaigns) served.set(`campaigns/${campaign.settings.title} (${campaign.id}).json`, json({ ...campaign, content: mailchimp.contents.get(campaign.id) }));
        for (const { html, ...template } of mailchimp.templates) served.set(`templates/${template.name} (${template.id}).json`, json({ ...template, content: { html } }));
        return served;
      },
      incremental: {
        resource: 'members',
        read: () => mailchimp.recordsServed(/\/members$/, (body) => body?.members),
        change() {
          mailchimp.advance(120_000);
          const member = mailchimp.members.get(news.id)![0];
          mailchimp.editMember(member, { merge_fields: { ...member.merge_fields, FNAME: 'Renamed' } });
          return `members/${news.name}/${member.email_address}.json`;
        },
      },
      close: () => mailchimp.close(),
    };
  },
} satisfies E2EPlatform;
