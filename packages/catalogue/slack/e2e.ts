import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeSlack } from './fake.ts';

export default {
  slug: 'slack',
  async start() {
    const definition = definitionOf('slack');
    const slack = await new FakeSlack().start();
    // auth.test is the fake API's own.
    slack.account = new FakeAccount({
      definition,
      accept: (token) => slack.tokens.add(token),
      refuse: (token) => slack.tokens.delete(token),
      tokenFields: () => ({ ok: true, token_type: 'bot', app_id: 'A0FAKE001', bot_user_id: 'U0BOT0001', team: { id: slack.teamId, name: 'Acme' }, enterprise: null, is_enterprise_install: false }),
      tokenPrefix: 'xoxe.xoxb-',
    });
    // Pages of 2: every list takes more than one.
    for (const method of ['conversations.list', 'conversations.history', 'conversations.replies', 'users.list']) slack.maxPage[method] = 2;
    const general = slack.addChannel('general');
    const secret = slack.addChannel('secret', { private: true });
    for (let i = 0; i < 5; i++) slack.post(general.id, `Message ${i}`);
    const thread = slack.post(general.id, 'A question');
    for (let i = 0; i < 3; i++) slack.reply(general.id, thread, `Answer ${i}`);
    slack.post(secret.id, 'Psst');
    for (const name of ['ada', 'grace', 'linus']) slack.addMember(name);
    const files = [slack.addFile('report.pdf', { size: 120_000, channel: general.id, mimetype: 'application/pdf' }), slack.addFile('notes.txt', { size: 300, channel: secret.id, mimetype: 'text/plain' })];
    return {
      apiRoot: apiRootAt(definition, slack.url),
      account: slack.account,
      origin: slack.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const channel of slack.channels) {
          served.set(`channels/${channel.name}.json`, json(channel));
          for (const message of slack.history.get(channel.id)!) {
            const replies = slack.replies.get(`${channel.id}/${message.ts}`);
            served.set(`messages/${channel.name}/${message.ts}.json`, json(replies ? { ...message, replies } : message));
          }
        }
        for (const member of slack.members) served.set(`users/${member.name}.json`, json(member));
        for (const file of files) served.set(`files/${file.id}-${file.name}`, Buffer.concat([...generatedBytes(file.seed, 0, file.size)]));
        return served;
      },
      incremental: {
        resource: 'messages',
        read: () => slack.recordsServed(/\/conversations\.history$/, (body) => body?.messages),
        change() {
          slack.advance(120_000);
          const message = slack.post(general.id, 'Posted later');
          return `messages/general/${message.ts}.json`;
        },
      },
      close: () => slack.close(),
    };
  },
} satisfies E2EPlatform;
