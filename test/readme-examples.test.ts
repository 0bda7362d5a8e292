/**
 * Every GraphQL example in the README and docs/ runs against the running stack, with real data: a
 * ```graphql block, or an inline `…` span that is a whole operation. The README's own signUp makes
 * the user; the account then has a Stripe connection, a source and a finished backup, so the
 * examples read real rows. Placeholders (`<account id>`, `<connection id>`, the sample key) are
 * filled in; a documented refusal (docs/limits.md's over-cost query) must be refused as documented.
 * Payments are on, against the fake of Stripe's billing API the billing tests use, so the
 * payment-method example answers what an owner sees: a SetupIntent's client secret.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { FakeStripeBilling } from '@listbackup/catalogue/stripe/billing-fake';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';

interface Example {
  file: string;
  text: string;
}

const SETUP_PAYMENT_METHOD = 'mutation { setupPaymentMethod(accountId: "<account id>") { clientSecret setupIntentId } }';

/** Examples the docs say are refused, by the code they are refused with. */
const REFUSED = new Map([
  ['{ accounts { edges { node { jobs(first: 100) { edges { node { log(first: 100) { edges { node { message } } } } } } } } } }', 'QUERY_COST_LIMIT'],
]);

function examples(): Example[] {
  const files = ['README.md', ...readdirSync('docs').filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
  const found: Example[] = [];
  for (const file of files) {
    const markdown = readFileSync(file, 'utf8');
    for (const [, text] of markdown.matchAll(/```graphql\n([\s\S]*?)```/g)) found.push({ file, text: text.trim() });
    // Inline spans that are whole operations (not a field or a JSON body quoted in the prose).
    const prose = markdown.replace(/```[\s\S]*?```/g, '');
    for (const [, text] of prose.matchAll(/`((?:query|mutation|subscription)?\s*\{[^`]*\})`/g)) {
      try {
        if (parse(text).definitions.some((d) => d.kind === 'OperationDefinition')) found.push({ file, text });
      } catch {
        // not a GraphQL document
      }
    }
  }
  return found;
}

describe('the GraphQL examples of the README and docs/, with real data', () => {
  let stripe: FakeStripe;
  let payments: FakeStripeBilling;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let stack: BackupStack;
  const all = examples();

  beforeAll(async () => {
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 12; i++) stripe.add('customers');
    payments = await new FakeStripeBilling().start();
    identity = await startIdentity();
    stack = await startBackupStack(`${stripe.url}/v1`, identity.url, {
      billing: { stripe: { secretKey: 'sk_test_valid', webhookSecret: payments.webhookSecret, apiUrl: payments.url }, schedules: false, reconciliation: false },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await stripe?.close();
    await payments?.close();
    await identity?.close();
  });

  it('finds the examples: the README\'s sign-up first, and every ```graphql block', () => {
    expect(all[0].file).toBe('README.md');
    expect(all[0].text).toMatch(/^mutation \{ signUp\(/);
    const blocks = ['README.md', ...readdirSync('docs').map((name) => `docs/${name}`)]
      .filter((file) => file.endsWith('.md'))
      .reduce((n, file) => n + [...readFileSync(file, 'utf8').matchAll(/```graphql\n/g)].length, 0);
    expect(all.length).toBeGreaterThan(blocks);
    // The inline ones too: the README's plans query, and each documented refusal.
    expect(all.map((example) => example.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^query \{ plans \{/), SETUP_PAYMENT_METHOD, ...REFUSED.keys()]));
  });

  it('runs each of them without an error (the documented refusals refused as documented)', { timeout: 240_000 }, async () => {
    const run = async (text: string, token?: string) => {
      const result = await stack.graphql(text, {}, token);
      return result as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
    };
    const [signUp, ...rest] = all;
    const signedUp = await run(signUp.text.replaceAll('you@example.com', `readme-${randomBytes(4).toString('hex')}@example.com`));
    expect(signedUp.errors).toBeUndefined();
    const token = signedUp.data.signUp.accessToken as string;
    const me = await run('{ me { memberships { edges { node { account { id } } } } } }', token);
    const accountId = me.data.me.memberships.edges[0].node.account.id as string;

    // Real data: a connection, a source and a finished backup of it.
    const created = await stack.graphql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
      token,
    );
    const connectionId = created.data!.createApiKeyConnection.id as string;
    const source = await stack.graphql(
      `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
      { input: { accountId, connectionId, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
      token,
    );
    const sourceId = source.data!.createSource.id as string;
    const jobId = (await stack.graphql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, token)).data!.triggerSync.id as string;
    for (const deadline = Date.now() + 120_000; ; ) {
      const { status } = (await stack.graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id: jobId }, token)).data!.job;
      if (status === 'SUCCEEDED') break;
      if (status === 'FAILED' || status === 'CANCELLED' || Date.now() > deadline) throw new Error(`the backup ended ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const ran: string[] = [];
    for (const example of rest) {
      const text = example.text.replaceAll('<account id>', accountId).replaceAll('<connection id>', connectionId).replaceAll('rk_live_…', STRIPE_KEY);
      const result = await run(text, token);
      const refusal = REFUSED.get(example.text);
      if (refusal) expect({ example, codes: result.errors?.map((e) => e.extensions?.code) }).toEqual({ example, codes: [refusal] });
      else {
        expect({ example, errors: result.errors }).toEqual({ example, errors: undefined });
        expect(result.data, example.text).toBeTruthy();
      }
      ran.push(text);
    }
    // The examples saw the real rows: the README's first query lists the connection, the source and the backup.
    const first = rest.find((example) => example.text.startsWith('query { me {'))!;
    const account = (await run(first.text, token)).data.me.memberships.edges[0].node.account;
    expect(account.connections.edges.map((edge: any) => edge.node.id)).toEqual([connectionId]);
    expect(account.sources.edges.map((edge: any) => edge.node.id)).toEqual([sourceId]);
    expect(account.jobs.edges.map((edge: any) => edge.node)).toContainEqual({ id: jobId, status: 'SUCCEEDED' });
    // The payment-method example made a SetupIntent at Stripe for the account's customer, and answered its secret.
    const setup = (await run(SETUP_PAYMENT_METHOD.replace('<account id>', accountId), token)).data.setupPaymentMethod;
    expect(setup.clientSecret).toMatch(new RegExp(`^${setup.setupIntentId}_secret_`));
    expect(payments.setupIntents.get(setup.setupIntentId)).toMatchObject({ metadata: { accountId } });
    expect(ran.length).toBe(rest.length);
  });
});
