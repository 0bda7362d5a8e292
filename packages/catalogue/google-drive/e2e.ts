import { apiRootAt, definitionOf, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { DRIVE_EXPORTS } from './connector.ts';
import { FakeDrive, FOLDER, GOOGLE_DOC } from './fake.ts';

export default {
  slug: 'google-drive',
  async start() {
    const definition = definitionOf('google-drive');
    const drive = await new FakeDrive().start();
    drive.account = new FakeAccount({
      definition,
      identity: () => ({ user: { kind: 'drive#user', displayName: 'Drive User', permissionId: '01234567890123456789', emailAddress: 'drive.user@example.com', me: true } }),
      accept: (token) => drive.tokens.add(token),
      refuse: (token) => drive.tokens.delete(token),
      tokenPrefix: 'ya29.',
    });
    const reports = drive.add('Reports', FOLDER);
    const files = [drive.add('notes.txt', 'text/plain', { size: 1_500 }), drive.add('q1.pdf', 'application/pdf', { parent: reports.id, size: 300_000 }), drive.add('q2.csv', 'text/csv', { parent: reports.id, size: 7 })];
    const doc = drive.add('Plan', GOOGLE_DOC, { parent: reports.id });
    return {
      apiRoot: apiRootAt(definition, drive.url),
      account: drive.account,
      origin: drive.url,
      connect: { kind: 'oauth' },
      served() {
        const folder = (file: { parents?: string[] }) => (file.parents?.[0] === reports.id ? 'files/My Drive/Reports' : 'files/My Drive');
        const served = new Map<string, Served>(files.map((file) => [`${folder(file)}/${file.name}`, Buffer.concat([...generatedBytes(file.seed!, 0, Number(file.size))])]));
        const target = DRIVE_EXPORTS[GOOGLE_DOC];
        served.set(`${folder(doc)}/${doc.name}${target.extension}`, drive.exported(doc, target.mimeType));
        return served;
      },
      incremental: {
        resource: 'files',
        // Contents downloaded or exported.
        read: () => drive.requests.filter((r) => r.status === 200 && /^\/drive\/v3\/files\/[^/]+(\/export)?$/.test(r.path) && (r.query.get('alt') === 'media' || r.path.endsWith('/export'))).length,
        change() {
          drive.advance(120_000);
          drive.modify(files[0].id, { seed: 'notes, second version', size: 1_600 });
          return `files/My Drive/${files[0].name}`;
        },
      },
      close: () => drive.close(),
    };
  },
} satisfies E2EPlatform;
