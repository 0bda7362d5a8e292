import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeDropbox, type FakeDropboxFile } from './fake.ts';

const ACCOUNT_ID = 'dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc';

export default {
  slug: 'dropbox',
  async start() {
    const definition = definitionOf('dropbox');
    const dropbox = await new FakeDropbox().start();
    dropbox.account = new FakeAccount({
      definition,
      identity: () => ({ account_id: ACCOUNT_ID, name: { given_name: 'Drop', surname: 'Box', display_name: 'Drop Box' }, email: 'drop.box@example.com', email_verified: true, disabled: false, country: 'US', locale: 'en' }),
      accept: (token) => dropbox.tokens.add(token),
      refuse: (token) => dropbox.tokens.delete(token),
      tokenFields: () => ({ account_id: ACCOUNT_ID, uid: '12345' }),
      tokenPrefix: 'sl.',
    });
    // Pages of 2: the listing continues with its cursor.
    dropbox.maxPage = 2;
    dropbox.addFolder('/Work');
    dropbox.addFolder('/Photos');
    const files: FakeDropboxFile[] = [dropbox.putFile('/Work/Report.pdf', 250_000), dropbox.putFile('/Work/notes.txt', 64), dropbox.putFile('/Photos/Été à la plage.jpg', 40_000), dropbox.putFile('/todo.md', 10)];
    dropbox.addSharedLink(files[0]);
    return {
      apiRoot: apiRootAt(definition, dropbox.url),
      account: dropbox.account,
      origin: dropbox.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>(files.map((file) => [`files/${file.path_display.replace(/^\/+/, '')}`, Buffer.concat([...generatedBytes(file.seed, 0, file.size)])]));
        for (const link of dropbox.sharedLinks) served.set(`shared_links/${String(link.path_lower).replace(/^\/+/, '').replace(/\//g, '_')}.json`, json(link));
        return served;
      },
      incremental: {
        resource: 'files',
        // Contents downloaded.
        read: () => dropbox.requestsServed(/^\/2\/files\/download$/),
        change() {
          dropbox.advance(120_000);
          files[1] = dropbox.putFile('/Work/notes.txt', 80);
          return 'files/Work/notes.txt';
        },
      },
      close: () => dropbox.close(),
    };
  },
} satisfies E2EPlatform;
