/**
 * Connector throughput against the fakes, beside the fakes' own serve rate on the same machine:
 *
 *   npm run bench -- connectors                 # or: npx node bench/connectors.ts
 *   PRODUCTS=5000 FILES=16 FILE_MIB=2 ROUNDS=2 npx node bench/connectors.ts --no-write
 *
 * - Shopify-like JSON pages: the Shopify connector backs up `products` (250 a page, `Link` with
 *   `page_info`) from the Shopify fake, each item's JSON read through; the fake's bucket is made
 *   large enough that pacing never holds a request, so this is the client's own cost.
 * - Dropbox-like files: the Dropbox connector backs up `files` from the Dropbox fake, each file's
 *   bytes streamed from `files/download` and drained.
 *
 * The fake runs in a child process (its own event loop, the machine's other core); the serve rate
 * is the same requests made one after the other by a bare undici `request` loop that only follows the pages
 * and drains the bodies: what the fake can give on this machine. Both run one request at a time,
 * as a backup run does. Figures are the medians of the rounds. Writes the "## Connectors against
 * their fakes" section of docs/benchmarks.md.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FakeDropbox } from '@listbackup/catalogue/dropbox/fake';
import { createDropboxConnector } from '@listbackup/catalogue/dropbox/connector';
import { FakeShopify, SHOPIFY_API_PREFIX } from '@listbackup/catalogue/shopify/fake';
import { createShopifyConnector } from '@listbackup/catalogue/shopify/connector';
import { type Connector, fetchResource } from '@listbackup/catalogue/sdk';
import { type Dispatcher, request } from 'undici';
import { writeSection } from './section.ts';

const PRODUCTS = Number(process.env.PRODUCTS ?? 20_000);
const FILES = Number(process.env.FILES ?? 48);
const FILE_MIB = Number(process.env.FILE_MIB ?? 4);
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 3));
const SHOPIFY_TOKEN = 'shpat_valid';
const DROPBOX_TOKEN = 'sl.valid';

type Platform = 'shopify' | 'dropbox';

interface Measured {
  seconds: number;
  items: number;
  bytes: number;
  requests: number;
}

async function startFake(platform: Platform): Promise<{ url: string; stop(): void }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', platform], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the ${platform} fake exited (${code})`)));
  });
  return { url, stop: () => child.kill() };
}

/** A connector run to the end, every item's content read through. */
async function throughConnector(connector: Connector, resource: string, token: string): Promise<Measured> {
  const started = performance.now();
  let items = 0;
  let bytes = 0;
  const run = fetchResource(connector, resource, { credentials: async () => ({ accessToken: token }), refreshCredentials: async () => ({ accessToken: token }) });
  for await (const item of run) {
    items++;
    for await (const chunk of item.content()) bytes += chunk.byteLength;
  }
  return { seconds: (performance.now() - started) / 1000, items, bytes, requests: 0 };
}

/** Shopify's product pages, one after the other, following `Link`; the bodies only drained. */
async function shopifyServeRate(root: string): Promise<Measured> {
  const started = performance.now();
  let next: string | undefined = `${root}/products.json?limit=250`;
  let bytes = 0;
  let requests = 0;
  while (next) {
    const response: Dispatcher.ResponseData = await request(next, { headers: { 'x-shopify-access-token': SHOPIFY_TOKEN, accept: 'application/json' } });
    for await (const chunk of response.body) bytes += (chunk as Buffer).byteLength;
    requests++;
    next = /<([^>]+)>;\s*rel="next"/.exec(String(response.headers.link ?? ''))?.[1];
  }
  return { seconds: (performance.now() - started) / 1000, items: PRODUCTS, bytes, requests };
}

/** Dropbox's listing, then every file's download, one after the other, drained. */
async function dropboxServeRate(root: string): Promise<Measured> {
  const started = performance.now();
  const authorization = `Bearer ${DROPBOX_TOKEN}`;
  const rpc = async (path: string, body: unknown) => {
    const response = await request(`${root}/${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await response.body.json()) as { entries: { '.tag': string; path_lower: string; rev: string }[]; cursor: string; has_more: boolean };
  };
  const files: { path_lower: string; rev: string }[] = [];
  let page = await rpc('files/list_folder', { path: '', recursive: true });
  let requests = 1;
  for (;;) {
    files.push(...page.entries.filter((entry) => entry['.tag'] === 'file'));
    if (!page.has_more) break;
    page = await rpc('files/list_folder/continue', { cursor: page.cursor });
    requests++;
  }
  let bytes = 0;
  for (const file of files) {
    const response = await request(`${root}/files/download`, { method: 'POST', headers: { authorization, 'dropbox-api-arg': JSON.stringify({ path: `rev:${file.rev}` }) } });
    for await (const chunk of response.body) bytes += (chunk as Buffer).byteLength;
    requests++;
  }
  return { seconds: (performance.now() - started) / 1000, items: files.length, bytes, requests };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function measure(platform: Platform): Promise<{ connector: Measured; fake: Measured }> {
  const fake = await startFake(platform);
  try {
    const connector = platform === 'shopify' ? createShopifyConnector({ baseUrl: fake.url }) : createDropboxConnector({ baseUrl: fake.url });
    const resource = platform === 'shopify' ? 'products' : 'files';
    const token = platform === 'shopify' ? SHOPIFY_TOKEN : DROPBOX_TOKEN;
    // One run each first, untimed: connections, JIT, the bucket size learned.
    await throughConnector(connector, resource, token);
    const serve = platform === 'shopify' ? shopifyServeRate : dropboxServeRate;
    await serve(fake.url);
    const runs: Measured[] = [];
    const serves: Measured[] = [];
    // The two alternate who goes first, so drift in the machine's load lands on both.
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        runs.push(await throughConnector(connector, resource, token));
        serves.push(await serve(fake.url));
      } else {
        serves.push(await serve(fake.url));
        runs.push(await throughConnector(connector, resource, token));
      }
      console.error(`${platform} round ${round + 1}: connector ${fmt(runs.at(-1)!.seconds, 2)} s, fake ${fmt(serves.at(-1)!.seconds, 2)} s`);
    }
    const med = (list: Measured[]): Measured => ({ ...list[0], seconds: median(list.map((m) => m.seconds)) });
    return { connector: med(runs), fake: med(serves) };
  } finally {
    fake.stop();
  }
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0];
  const started = Date.now();
  const shopify = await measure('shopify');
  const dropbox = await measure('dropbox');
  const loadEnd = loadavg()[0];
  const MB = 1e6;
  const rate = (m: Measured) => m.items / m.seconds;
  const mbps = (m: Measured) => m.bytes / MB / m.seconds;
  const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/) ?? [])[1] ?? cpus()[0]?.model ?? 'unknown';
  const settings = `PRODUCTS=${PRODUCTS} FILES=${FILES} FILE_MIB=${FILE_MIB} ROUNDS=${ROUNDS}`;
  const section = [
    '## Connectors against their fakes',
    '',
    `Command: \`${settings} npx node bench/connectors.ts\` (\`npm run bench -- connectors\` runs the defaults) · ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC · ${fmt((Date.now() - started) / 1000)} s`,
    '',
    `Machine: ${cpuModel}, ${cpus().length} cores, Node ${process.version}; load average ${loadStart.toFixed(2)} at the start and ${loadEnd.toFixed(2)} at the end: the machine is shared, and other processes' load lands on both columns (they alternate who goes first; medians of ${ROUNDS} rounds).`,
    '',
    'The fake runs in its own process; **connector** is a full backup run through the connector (paging, its HTTP client, the items and their content read through, as the engine reads them), **fake serves** the same requests from a bare loop (undici’s `request`) that only follows the pages and drains the bodies. Pacing never holds a request here (the Shopify fake is given a bucket no run fills), so the gap is the connector\'s own cost. One request at a time in both, as one backup run sends them.',
    '',
    '| workload | items | data | connector items/s | connector MB/s | fake serves items/s | fake serves MB/s | connector / fake |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| Shopify-like JSON pages (\`products\`, 250 a page) | ${fmt(shopify.connector.items)} | ${fmt(shopify.fake.bytes / MB, 1)} MB of pages | ${fmt(rate(shopify.connector))} | ${fmt(mbps(shopify.connector), 1)} (item JSON) | ${fmt(rate(shopify.fake))} | ${fmt(mbps(shopify.fake), 1)} | ${fmt((100 * rate(shopify.connector)) / rate(shopify.fake))}% |`,
    `| Dropbox-like files (\`files\`, ${FILE_MIB} MiB each) | ${fmt(dropbox.connector.items)} | ${fmt(dropbox.fake.bytes / MB)} MB | ${fmt(rate(dropbox.connector), 1)} | ${fmt(mbps(dropbox.connector))} | ${fmt(rate(dropbox.fake), 1)} | ${fmt(mbps(dropbox.fake))} | ${fmt((100 * mbps(dropbox.connector)) / mbps(dropbox.fake))}% |`,
    '',
    `With the load average above the number of cores, both columns are bounded by the share of CPU the processes get: compare them with each other, not with another run's.`,
    '',
  ].join('\n');
  console.log(section);
  if (!process.argv.includes('--no-write')) writeSection(section);
}

// The child: one fake with its data, until the parent goes.
async function serve(platform: Platform): Promise<void> {
  let url: string;
  if (platform === 'shopify') {
    const shop = new FakeShopify();
    shop.bucketSize = 1_000_000;
    for (let i = 0; i < PRODUCTS; i++) shop.addProduct(`Widget ${i}`, { body_html: `<p>Widget number ${i}, in stock.</p>`, vendor: 'Acme', product_type: 'Gadget', tags: 'bench, widget' });
    await shop.start();
    // The fake keeps every request it answered; a benchmark would only grow that list.
    setInterval(() => void (shop.requests.length = 0), 1000).unref();
    url = `${shop.url}${SHOPIFY_API_PREFIX}`;
  } else {
    const dropbox = new FakeDropbox();
    for (let i = 0; i < FILES; i++) dropbox.putFile(`/bench/file-${i}.bin`, FILE_MIB * 1024 * 1024);
    await dropbox.start();
    setInterval(() => void (dropbox.requests.length = 0), 1000).unref();
    url = `${dropbox.url}/2`;
  }
  process.send!({ url });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as Platform);
else {
  // The fakes listen on 127.0.0.1, which connectors refuse unless the deployment allows it.
  process.env.OUTBOUND_ALLOW ??= '127.0.0.0/8';
  await main();
}
