/** The fake SaaS servers, for connector and end-to-end tests. */
import { FakeGitHub } from '../github/fake.ts';
import { FakeDrive } from '../google-drive/fake.ts';
import { FakeRest } from '../rest/fake.ts';
import { FakeStripe } from '../stripe/fake.ts';

export { FakeServer, type Failure, type RecordedRequest } from './fake-server.ts';
export { generatedBytes, generatedSha256 } from './content.ts';
export { FakeDrive, FakeGitHub, FakeRest, FakeStripe };

export interface Fakes {
  github: FakeGitHub;
  stripe: FakeStripe;
  drive: FakeDrive;
  rest: FakeRest;
  /** What `createConnectorRegistry({ baseUrls })` needs to talk to these fakes. */
  baseUrls: { github: string; stripe: string; 'google-drive': string };
  close(): Promise<void>;
}

/** Starts every fake on its own free port. */
export async function startFakes(): Promise<Fakes> {
  const [github, stripe, drive, rest] = await Promise.all([new FakeGitHub().start(), new FakeStripe().start(), new FakeDrive().start(), new FakeRest().start()]);
  return {
    github,
    stripe,
    drive,
    rest,
    baseUrls: { github: github.url, stripe: stripe.url, 'google-drive': `${drive.url}/drive/v3` },
    close: async () => {
      await Promise.all([github.close(), stripe.close(), drive.close(), rest.close()]);
    },
  };
}
