import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { type FakeBoxFile, FakeBox } from './fake.ts';

export default {
  slug: 'box',
  async start() {
    const definition = definitionOf('box');
    const box = await new FakeBox().start();
    box.account = new FakeAccount({
      definition,
      identity: () => ({ type: 'user', id: '11446498', name: 'Box User', login: 'box.user@example.com', status: 'active' }),
      accept: (token) => box.tokens.add(token),
      refuse: (token) => box.tokens.delete(token),
    });
    const work = box.addFolder('Work');
    const reports = box.addFolder('Reports', work.id);
    const files: { file: FakeBoxFile; path: string }[] = [
      { file: box.putFile('readme.txt', '0', 120), path: 'readme.txt' },
      { file: box.putFile('plan.docx', work.id, 60_000), path: 'Work/plan.docx' },
      { file: box.putFile('q4.pdf', reports.id, 210_000), path: 'Work/Reports/q4.pdf' },
    ];
    const shared = box.addCollaboration(work, 'colleague@example.com');
    return {
      apiRoot: apiRootAt(definition, box.url),
      account: box.account,
      origin: box.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>(files.map(({ file, path }) => [`files/${path}`, Buffer.concat([...generatedBytes(box.seedOf(file), 0, file.size)])]));
        served.set(`collaborations/Work/${shared.id}.json`, json(shared));
        return served;
      },
      incremental: {
        resource: 'files',
        // Contents downloaded.
        read: () => box.requestsServed(/^\/2\.0\/files\/\d+\/content$/),
        change() {
          box.advance(120_000);
          box.putFile('plan.docx', work.id, 61_000);
          return 'files/Work/plan.docx';
        },
      },
      close: () => box.close(),
    };
  },
} satisfies E2EPlatform;
