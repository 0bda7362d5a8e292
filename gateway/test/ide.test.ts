/**
 * A person's view: GraphQL Playground and GraphiQL, served by the gateway from installed packages,
 * in headless Chromium with no network beyond this machine, subscribe to a running job and show its
 * progress live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { jobEventOf, type JobEventType, type JobStatePatch } from './support/job-events.ts';
import { createLogger } from '@listbackup/lib/logger';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

/** How long a step may take on a loaded machine (the IDE bundles are large); waits end as soon as the condition holds. */
const WAIT_MS = 90_000;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium`);

let stack: Stack;
let gateway: RunningGateway;
let origin: string;
let browser: Browser;
let user: SignedUp;
/** Requests the pages made to anywhere but the gateway (there must be none). */
const foreignRequests: string[] = [];

describe.skipIf(!haveChromium)('the IDEs in a browser', { timeout: 5 * WAIT_MS }, () => {
  beforeAll(async () => {
    stack = await startStack();
    gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
      accountsUrl: stack.services.accounts.url,
      internalTokenSecret: stack.internalTokenSecret,
      log: createLogger('gateway', process.env.LOG_LEVEL ?? 'silent'),
      subscriptions: { bus: stack.bus },
    });
    origin = new URL(gateway.url).origin;
    user = await signUp(stack, undefined, 'Browser User');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await stack?.close();
  });

  async function open(path: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    // Anything not served by the gateway is refused and remembered: the IDEs must work offline.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith(origin.replace('http', 'ws')) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    if (process.env.DEBUG_IDE) {
      page.on('console', (message) => console.log('console:', message.type(), message.text()));
      page.on('pageerror', (error) => console.log('pageerror:', error.message));
      page.on('requestfailed', (request) => console.log('requestfailed:', request.url(), request.failure()?.errorText));
    }
    await page.goto(`${origin}${path}`);
    return page;
  }

  it('the landing page links both IDEs', async () => {
    const page = await open('/');
    expect(await page.locator('h1').textContent()).toBe('ListBackup GraphQL API');
    expect(await page.locator('a[href="/graphiql"]').count()).toBe(1);
    expect(await page.locator('a[href="/playground"]').count()).toBe(1);
    await page.context().close();
  });

  it('GraphiQL subscribes to a job and shows its progress as it happens', async () => {
    const job = await seedJob(user.accountId);
    const query = 'subscription Watch($id: ID!) { jobUpdated(id: $id) { status progress { itemsDone } source { name connection { platform { name } } } } }';
    const page = await open(`/graphiql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ id: job.jobId }))}`);
    await page.locator('#lb-token').fill(user.accessToken);
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toContain('QUEUED');

    await publishJob(job, 'job.started', 'RUNNING', 0);
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toContain('RUNNING');
    await publishJob(job, 'job.progress', 'RUNNING', 40);
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toMatch(/"itemsDone":\s*40/);
    await publishJob(job, 'job.progress', 'RUNNING', 80);
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toMatch(/"itemsDone":\s*80/);
    const text = await textOf(response);
    expect(text).toContain('Stripe charges');
    expect(text).toMatch(/"name":\s*"Stripe"/);
    await publishJob(job, 'job.completed', 'SUCCEEDED', 100);
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toContain('SUCCEEDED');
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? '/tmp'}/graphiql-subscription.png` });
    await page.context().close();
    expect(foreignRequests).toEqual([]);
  });

  it('GraphQL Playground subscribes over the legacy protocol and shows progress as it happens', async () => {
    const job = await seedJob(user.accountId);
    const page = await open('/playground');
    // Playground's editors are CodeMirror 5: set the query, the variables and the Authorization header.
    await page.waitForSelector('.CodeMirror', { timeout: WAIT_MS });
    await setEditor(page, 0, 'subscription Watch($id: ID!) {\n  jobUpdated(id: $id) {\n    status\n    progress { itemsDone }\n    source { name connection { platform { name } } }\n  }\n}\n');
    await page.locator('span', { hasText: 'Query Variables' }).first().click();
    await setEditor(page, 1, JSON.stringify({ id: job.jobId }));
    await page.locator('span', { hasText: 'HTTP Headers' }).first().click();
    await setEditor(page, 1, JSON.stringify({ Authorization: `Bearer ${user.accessToken}` }));
    await page.locator('[title="Execute Query (Ctrl-Enter)"]').click();

    // The result viewer is the only place on the page where these values appear.
    const result = page.locator('body');
    await expect.poll(() => textOf(result), { timeout: WAIT_MS }).toContain('QUEUED');
    await publishJob(job, 'job.started', 'RUNNING', 0);
    await expect.poll(() => textOf(result), { timeout: WAIT_MS }).toContain('RUNNING');
    await publishJob(job, 'job.progress', 'RUNNING', 55);
    await expect.poll(() => textOf(result), { timeout: WAIT_MS }).toMatch(/"itemsDone":\s*55/);
    await publishJob(job, 'job.progress', 'RUNNING', 90);
    await expect.poll(() => textOf(result), { timeout: WAIT_MS }).toMatch(/"itemsDone":\s*90/);
    expect(await textOf(result)).toContain('Stripe charges');
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR ?? '/tmp'}/playground-subscription.png` });
    await page.context().close();
    expect(foreignRequests).toEqual([]);
  });
  it('GraphiQL tells a user who has not signed in to paste a token before a subscription runs', async () => {
    const query = 'subscription Watch($id: ID!) { jobUpdated(id: $id) { status } }';
    const page = await open(`/graphiql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ id: randomUUID() }))}`);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toContain('Sign in first');
    expect(await textOf(response)).toContain('UNAUTHENTICATED');
    expect(sockets).toEqual([]);

    // A token the server refuses: its reason is shown, not a bare event.
    await page.locator('#lb-token').fill('not-a-token');
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => textOf(response), { timeout: WAIT_MS }).toMatch(/closed the subscription socket \(4403\)\s*: Forbidden: \S/);
    await page.context().close();
  });

  it('GraphQL Playground shows the sign-in hint, and the server\'s reason for a refused token, instead of "Could not connect"', async () => {
    const page = await open('/playground');
    await page.waitForSelector('.CodeMirror', { timeout: WAIT_MS });
    await setEditor(page, 0, 'subscription Watch($id: ID!) {\n  jobUpdated(id: $id) { status }\n}\n');
    await page.locator('span', { hasText: 'Query Variables' }).first().click();
    await setEditor(page, 1, JSON.stringify({ id: randomUUID() }));
    await page.locator('[title="Execute Query (Ctrl-Enter)"]').click();
    const notice = page.locator('#lb-socket-notice');
    await expect.poll(() => notice.isVisible().then((visible) => (visible ? notice.textContent() : '')), { timeout: WAIT_MS }).toContain('Sign in first');
    await page.context().close();

    const withBadToken = await open('/playground');
    await withBadToken.waitForSelector('.CodeMirror', { timeout: WAIT_MS });
    await setEditor(withBadToken, 0, 'subscription Watch($id: ID!) {\n  jobUpdated(id: $id) { status }\n}\n');
    await withBadToken.locator('span', { hasText: 'Query Variables' }).first().click();
    await setEditor(withBadToken, 1, JSON.stringify({ id: randomUUID() }));
    await withBadToken.locator('span', { hasText: 'HTTP Headers' }).first().click();
    await setEditor(withBadToken, 1, JSON.stringify({ Authorization: 'Bearer not-a-token' }));
    await withBadToken.locator('[title="Execute Query (Ctrl-Enter)"]').click();
    const refused = withBadToken.locator('#lb-socket-notice');
    await expect.poll(() => refused.isVisible().then((visible) => (visible ? refused.textContent() : '')), { timeout: WAIT_MS }).toMatch(/refused the subscription socket: \S/);
    await withBadToken.context().close();
  });
});

/** What a locator shows, with Monaco's non-breaking spaces as plain ones. */
async function textOf(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node: the rendered text is the point
  return (await locator.innerText()).replaceAll('\u00a0', ' ');
}

/** Sets the `index`-th visible CodeMirror editor of Playground as if typed. */
async function setEditor(page: Page, index: number, value: string): Promise<void> {
  await page.evaluate(
    ([i, text]) => {
      const { document } = globalThis as any;
      const editors = [...document.querySelectorAll('.CodeMirror')].filter((element: any) => element.offsetParent !== null);
      const editor = (editors[i as number] as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror;
      editor.setValue(text as string);
    },
    [index, value] as const,
  );
}

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

interface Seeded {
  accountId: string;
  sourceId: string;
  jobId: string;
}

async function seedJob(accountId: string): Promise<Seeded> {
  const connectionId = randomUUID();
  const sourceId = randomUUID();
  const jobId = randomUUID();
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, accountId],
  );
  await sql(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at, updated_at) values ($1, $2, $3, 'Stripe charges', '{charges}', now(), now())`, [
    sourceId,
    accountId,
    connectionId,
  ]);
  await sql(
    `insert into jobs.jobs (id, account_id, source_id, kind, status, params, trigger_kind, progress, created_at, updated_at)
     values ($1, $2, $3, 'BACKUP', 'QUEUED', '{}', 'USER', '{"itemsDone":0,"bytesDone":0}', now(), now())`,
    [jobId, accountId, sourceId],
  );
  return { accountId, sourceId, jobId };
}

/** As the jobs worker publishes: state changes durably, progress ticks ephemerally, the job's state in `data.job`. */
async function publishJob(job: Seeded, type: JobEventType, status: JobStatePatch['status'], itemsDone: number): Promise<void> {
  const event = jobEventOf(type, job, { status, itemsDone });
  if (type === 'job.progress') await stack.bus.publishEphemeral(event);
  else await stack.bus.publish(event);
}
