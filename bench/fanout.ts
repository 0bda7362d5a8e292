/**
 * Subscription fan-out: N websocket clients, each subscribed to its own job through the gateway
 * (`jobUpdated`, graphql-transport-ws), job events published to NATS at 1/s per job and then in
 * bursts. The same clients, frames and events against a raw `ws` server that only routes NATS
 * messages to sockets: the limit. Clients and the publisher run in a child process, so this
 * process's CPU is the server's. Everything on 127.0.0.1; every phase is bounded in time.
 *
 *   npx node bench/fanout.ts                      # 1,000 and 5,000 clients, results in docs/benchmarks.md
 *   SIZES=500 STEADY_SECONDS=5 npx node bench/fanout.ts
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres) and NATS
 * (NATS_URL, default nats://127.0.0.1:4222).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect as natsConnect, type NatsConnection } from 'nats';
import WebSocket, { WebSocketServer } from 'ws';
import { writeSection } from './section.ts';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SIZES = (process.env.SIZES ?? '1000,5000').split(',').map(Number);
const STEADY_SECONDS = Number(process.env.STEADY_SECONDS ?? 10);
const BURST_ROUNDS = Number(process.env.BURST_ROUNDS ?? 3);
const ACCOUNTS = Number(process.env.ACCOUNTS ?? 50);
const QUERY = 'subscription Watch($id: ID!) { jobUpdated(id: $id) { id status progress { itemsDone percent } } }';

interface ClientSpec {
  jobId: string;
  accountId: string;
  sourceId: string;
  token: string;
}

/** What the load process reports for one phase. */
interface PhaseResult {
  expected: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  /** Deliveries per second over the phase (burst: from first publish to last receipt, median round). */
  throughput: number;
  seconds: number;
}

type ToLoad =
  | { cmd: 'connect'; url: string; clients: ClientSpec[]; namespace: string }
  | { cmd: 'steady'; seconds: number }
  | { cmd: 'burst'; rounds: number }
  | { cmd: 'close' };

interface StackReady {
  subgraphUrls: Record<string, string>;
  accountsUrl: string;
  internalTokenSecret: string;
  clients: ClientSpec[];
}

type FromLoad = { event: 'connected'; ms: number; failed: number } | { event: 'phase'; result: PhaseResult } | { event: 'error'; message: string };

if (process.argv[2] === '--load') await loadProcess();
else if (process.argv[2] === '--stack') await stackProcess();
else if (typeof globalThis.gc !== 'function') {
  // Again with --expose-gc, so memory is measured after a collection.
  const { spawnSync } = await import('node:child_process');
  // BENCH_CPU_PROF=<dir> writes a CPU profile of the server process there.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const run = spawnSync(process.execPath, ['--expose-gc', ...profile, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
} else await main();

// ---------------------------------------------------------------------------------------------
// The server side: the stack, the gateway on NATS, the raw ws peer, and the report.

async function main(): Promise<void> {
  const { startGateway } = await import('../gateway/src/index.ts');
  const { NatsEventBus } = await import('@listbackup/lib/events/nats-bus');
  const { createLogger } = await import('@listbackup/lib/logger');
  const { readSupergraph } = await import('@listbackup/lib/supergraph');

  const started = Date.now();
  const namespace = `lbbench${randomBytes(4).toString('hex')}`;
  console.error(`fan-out benchmark: sizes ${SIZES.join(', ')}, ${STEADY_SECONDS}s steady, ${BURST_ROUNDS} burst rounds; NATS ${NATS_URL}`);
  // The subgraphs run in a process of their own, so this one's CPU and memory are the gateway's.
  console.error('starting the subgraphs and seeding accounts, sources and jobs…');
  const stackProcess = fork(fileURLToPath(import.meta.url), ['--stack'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stack = await new Promise<StackReady>((resolve, reject) => {
    stackProcess.once('message', (message: StackReady | { error: string }) => ('error' in message ? reject(new Error(message.error)) : resolve(message)));
    stackProcess.once('exit', (code) => reject(new Error(`stack process exited with ${code}`)));
  });
  const clients = stack.clients;
  const bus = await NatsEventBus.connect(NATS_URL, { namespace, stream: `${namespace.toUpperCase()}_EVENTS`, name: 'bench-gateway' });
  const gateway = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: stack.subgraphUrls,
    accountsUrl: stack.accountsUrl,
    internalTokenSecret: stack.internalTokenSecret,
    log: createLogger('gateway', 'silent'),
    subscriptions: { bus, limits: { perAccount: 100_000, perSocket: 10 } },
  });
  const raw = await startRawServer(namespace);
  const cleanup = async () => {
    await raw.close();
    await gateway.close();
    const manager = await bus.connection.jetstreamManager();
    await manager.streams.delete(bus.stream).catch(() => undefined);
    await bus.close();
    stackProcess.send('close');
    await new Promise((resolve) => stackProcess.once('exit', resolve));
  };

  try {
    // Warm both servers up (JIT, plan cache, connection pools) before anything is measured.
    console.error('warming up…');
    await runPhases('gateway', 100, gateway.url.replace(/^http/, 'ws'), clients.slice(0, 100), namespace, undefined, 2);
    await runPhases('raw', 100, raw.url, clients.slice(0, 100), namespace, undefined, 2);

    const rows: Row[] = [];
    for (const size of SIZES) {
      for (const target of ['gateway', 'raw'] as const) {
        const url = target === 'gateway' ? gateway.url.replace(/^http/, 'ws') : raw.url;
        console.error(`${size} clients → ${target}…`);
        rows.push(await runPhases(target, size, url, clients.slice(0, size), namespace, target === 'gateway' ? () => gateway.subscriptions.stats() : undefined));
      }
    }
    const report = render(rows, Date.now() - started);
    console.log(report);
    writeSection(report);
  } finally {
    await cleanup();
  }
}

interface Row {
  target: 'gateway' | 'raw';
  clients: number;
  connectMs: number;
  steady: PhaseResult;
  burst: PhaseResult;
  steadyCpu: number;
  burstCpu: number;
  rssPer1000: number;
  /** Live JS heap after a full collection. */
  heapPer1000: number;
  groups?: number;
}

async function runPhases(
  target: Row['target'],
  size: number,
  url: string,
  clients: ClientSpec[],
  namespace: string,
  stats?: () => { groups: number; subscribers: number },
  steadySeconds = STEADY_SECONDS,
): Promise<Row> {
  const child = fork(fileURLToPath(import.meta.url), ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages = messageQueue(child);
  try {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 500));
    globalThis.gc?.();
    const before = process.memoryUsage();
    child.send({ cmd: 'connect', url, clients, namespace } satisfies ToLoad);
    const connected = await messages.next(180_000);
    if (connected.event !== 'connected') throw new Error(`load process: ${JSON.stringify(connected)}`);
    if (connected.failed) throw new Error(`${connected.failed} of ${size} clients failed to subscribe`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    globalThis.gc?.();
    const after = process.memoryUsage();
    const groups = stats?.().groups;

    const measure = async (command: ToLoad) => {
      const cpu = process.cpuUsage();
      const wall = performance.now();
      child.send(command);
      const reply = await messages.next(120_000);
      if (reply.event !== 'phase') throw new Error(`load process: ${JSON.stringify(reply)}`);
      const used = process.cpuUsage(cpu);
      return { result: reply.result, cpu: (used.user + used.system) / 1000 / (performance.now() - wall) };
    };
    const steady = await measure({ cmd: 'steady', seconds: steadySeconds });
    const burst = await measure({ cmd: 'burst', rounds: BURST_ROUNDS });
    child.send({ cmd: 'close' } satisfies ToLoad);
    await new Promise((resolve) => child.once('exit', resolve));
    return {
      target,
      clients: size,
      connectMs: connected.ms,
      steady: steady.result,
      burst: burst.result,
      steadyCpu: steady.cpu,
      burstCpu: burst.cpu,
      rssPer1000: ((after.rss - before.rss) / size) * 1000,
      heapPer1000: ((after.heapUsed - before.heapUsed) / size) * 1000,
      groups,
    };
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

function messageQueue(child: ChildProcess) {
  const queue: FromLoad[] = [];
  const waiting: ((message: FromLoad) => void)[] = [];
  child.on('message', (message: FromLoad) => {
    const next = waiting.shift();
    if (next) next(message);
    else queue.push(message);
  });
  child.on('exit', (code) => {
    for (const next of waiting.splice(0)) next({ event: 'error', message: `load process exited with ${code}` });
  });
  return {
    next(timeoutMs: number): Promise<FromLoad> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ event: 'error', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
        waiting.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
  };
}

/** The five subgraphs (and their own gateway, for sign-up), the accounts and the jobs the clients watch. */
async function stackProcess(): Promise<void> {
  const { startStack, signUp } = await import('../gateway/test/support/stack.ts');
  try {
    const stack = await startStack({ logLevel: 'silent' });
    const users: Awaited<ReturnType<typeof signUp>>[] = [];
    for (let index = 0; index < ACCOUNTS; index += 5) {
      const batch = Array.from({ length: Math.min(5, ACCOUNTS - index) }, (_, i) => signUp(stack, `bench-${index + i}-${randomUUID()}@example.com`, `Bench ${index + i}`));
      users.push(...(await Promise.all(batch)));
    }
    const clients = await seed(stack.databaseUrl, users, Math.max(...SIZES));
    process.once('message', async () => {
      await stack.close();
      process.exit(0);
    });
    process.send!({
      subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
      accountsUrl: stack.services.accounts.url,
      internalTokenSecret: stack.internalTokenSecret,
      clients,
    } satisfies StackReady);
  } catch (error) {
    process.send!({ error: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
}

async function seed(databaseUrl: string, users: { accountId: string; accessToken: string }[], count: number): Promise<ClientSpec[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const sources = new Map<string, string>();
    for (const user of users) {
      const connectionId = randomUUID();
      const sourceId = randomUUID();
      await client.query(
        `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
         select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
        [connectionId, user.accountId],
      );
      await client.query(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at, updated_at) values ($1, $2, $3, 'Stripe charges', '{charges}', now(), now())`, [
        sourceId,
        user.accountId,
        connectionId,
      ]);
      sources.set(user.accountId, sourceId);
    }
    const specs: ClientSpec[] = Array.from({ length: count }, (_, index) => {
      const user = users[index % users.length];
      return { jobId: randomUUID(), accountId: user.accountId, sourceId: sources.get(user.accountId)!, token: user.accessToken };
    });
    // VERIFY jobs: a source may have only one active BACKUP.
    for (let offset = 0; offset < specs.length; offset += 1_000) {
      const batch = specs.slice(offset, offset + 1_000);
      await client.query(
        `insert into jobs.jobs (id, account_id, source_id, kind, status, params, trigger_kind, progress, created_at, updated_at)
         select id, account_id, source_id, 'VERIFY', 'RUNNING', '{}', 'USER', '{"itemsDone":0,"bytesDone":0}', now(), now()
         from unnest($1::uuid[], $2::uuid[], $3::uuid[]) as t(id, account_id, source_id)`,
        [batch.map((spec) => spec.jobId), batch.map((spec) => spec.accountId), batch.map((spec) => spec.sourceId)],
      );
    }
    return specs;
  } finally {
    await client.end();
  }
}

/**
 * The limit: a `ws` server speaking just enough graphql-transport-ws, routing each NATS job event to
 * the socket subscribed to that job with the frame the gateway would send. No GraphQL at all.
 */
async function startRawServer(namespace: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, handleProtocols: () => 'graphql-transport-ws' });
  const byJob = new Map<string, { socket: WebSocket; id: string }>();
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
      else if (message.type === 'subscribe') {
        byJob.set(message.payload.variables.id, { socket, id: message.id });
        socket.send(JSON.stringify({ id: message.id, type: 'next', payload: { data: { jobUpdated: { id: message.payload.variables.id, status: 'RUNNING', progress: { itemsDone: 0, percent: 0 } } } } }));
      }
    });
  });
  const nats: NatsConnection = await natsConnect({ servers: NATS_URL, name: 'bench-raw' });
  for (const prefix of ['evt', 'live']) {
    nats.subscribe(`${namespace}.${prefix}.*.job.>`, {
      callback: (_error, msg) => {
        const event = JSON.parse(msg.string());
        const target = byJob.get(event.data.jobId);
        if (!target) return;
        const job = event.data.job;
        target.socket.send(
          JSON.stringify({ id: target.id, type: 'next', payload: { data: { jobUpdated: { id: job.id, status: job.status, progress: { itemsDone: job.progress.itemsDone, percent: job.progress.percent } } } } }),
        );
      },
    });
  }
  await nats.flush();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await nats.drain();
    },
  };
}

function render(rows: Row[], elapsedMs: number): string {
  const cpu = os.cpus();
  const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
  const pct = (phase: PhaseResult) => `${fmt((phase.delivered / phase.expected) * 100, 2)}%`;
  const lines = [
    '## Subscription fan-out',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, NATS 2.9 on 127.0.0.1, with \`npx node bench/fanout.ts\` (${Math.round(elapsedMs / 1000)} s in all).`,
    '',
    `Each client holds one websocket (graphql-transport-ws) with one \`jobUpdated(id)\` subscription to its own job (\`${QUERY}\`), ${ACCOUNTS} accounts. Events are published to NATS by a separate process (the one running the clients) and the subgraphs run in a third, so the CPU and memory below are the server process's alone; latency is from publish to receipt, both timed in that process. **steady**: every job gets one event per second for ${STEADY_SECONDS} s. **burst**: every job gets one event, all published as fast as the publisher can, ${BURST_ROUNDS} rounds; throughput is deliveries per second from the first publish to the last receipt (median round). **raw ws**: the same clients, frames and NATS events through a \`ws\` server that only routes each event to its socket — the limit.`,
    '',
    '| server | clients | steady p50 ms | steady p99 ms | steady delivered | burst p50 ms | burst p99 ms | burst delivered | burst throughput /s | CPU steady | CPU burst | RSS per 1,000 clients | heap per 1,000 clients |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.target === 'gateway' ? 'gateway' : 'raw ws'} | ${row.clients.toLocaleString('en')} | ${fmt(row.steady.p50)} | ${fmt(row.steady.p99)} | ${pct(row.steady)} | ${fmt(row.burst.p50)} | ${fmt(row.burst.p99)} | ${pct(row.burst)} | ${Math.round(row.burst.throughput).toLocaleString('en')} | ${fmt(row.steadyCpu * 100, 0)}% | ${fmt(row.burstCpu * 100, 0)}% | ${fmt(row.rssPer1000 / 2 ** 20, 1)} MiB | ${fmt(row.heapPer1000 / 2 ** 20, 1)} MiB |`,
    ),
    '',
  ];
  for (const size of new Set(rows.map((row) => row.clients))) {
    const gateway = rows.find((row) => row.clients === size && row.target === 'gateway');
    const raw = rows.find((row) => row.clients === size && row.target === 'raw');
    if (!gateway || !raw) continue;
    lines.push(
      `- ${size.toLocaleString('en')} clients: gateway burst throughput is ${fmt((gateway.burst.throughput / raw.burst.throughput) * 100, 0)}% of raw ws; steady p99 ${fmt(gateway.steady.p99)} ms (target < 250 ms), ${pct(gateway.steady)} delivered (target 100%); CPU ${fmt(gateway.steadyCpu * 100, 0)}% of one core at ${size.toLocaleString('en')} events/s (raw ${fmt(raw.steadyCpu * 100, 0)}%).`,
    );
  }
  lines.push(
    '',
    'The gateway executes every event per subscription: the primary fetch of the query plan is answered from the event (its fields are in the job state the event carries) and, for a selection like this one, nothing else is fetched. Selections with fields of other subgraphs (`source { name connection { platform { name } } }`) add one `_entities` round trip per subgraph per event per distinct subscription; identical subscriptions share that work.',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The load process: websocket clients and the NATS publisher, timed on one clock.

async function loadProcess(): Promise<void> {
  const { NatsEventBus } = await import('@listbackup/lib/events/nats-bus');
  const { createEvent } = await import('@listbackup/lib/events/contract');
  const send = (message: FromLoad) => process.send!(message);
  let clients: ClientSpec[] = [];
  let sockets: WebSocket[] = [];
  let bus: Awaited<ReturnType<typeof NatsEventBus.connect>> | undefined;
  /** publishedAt[job * SLOTS + seq] */
  const SLOTS = 64;
  let publishedAt = new Float64Array(0);
  let receivedAt = new Float64Array(0);
  let lastSeq = new Int32Array(0);
  const jobIndex = new Map<string, number>();

  const startedAt = new Date().toISOString();
  const publish = (index: number, seq: number) => {
    const spec = clients[index];
    publishedAt[index * SLOTS + seq] = performance.now();
    void bus!.publishEphemeral(
      createEvent('job.progress', spec.accountId, spec.jobId, {
        accountId: spec.accountId,
        sourceId: spec.sourceId,
        jobId: spec.jobId,
        job: {
          __typename: 'Job',
          id: spec.jobId,
          kind: 'BACKUP',
          status: 'RUNNING',
          attempts: 1,
          progress: { itemsDone: seq, itemsTotal: SLOTS, bytesDone: seq * 1000, bytesTotal: null, itemsPerSecond: null, bytesPerSecond: null, etaSeconds: null, percent: Math.round((seq / SLOTS) * 1000) / 10 },
          failureType: null,
          failureReason: null,
          partialSuccess: false,
          cancelRequested: false,
          createdAt: startedAt,
          startedAt,
          finishedAt: null,
          nextAttemptAt: null,
        },
      }),
    );
  };

  const summarize = (fromSeq: number, toSeq: number, seconds: number, throughput?: number): PhaseResult => {
    const latencies: number[] = [];
    let expected = 0;
    for (let index = 0; index < clients.length; index++) {
      for (let seq = fromSeq; seq <= toSeq; seq++) {
        if (!publishedAt[index * SLOTS + seq]) continue;
        expected++;
        const at = receivedAt[index * SLOTS + seq];
        if (at) latencies.push(at - publishedAt[index * SLOTS + seq]);
      }
    }
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    return { expected, delivered: latencies.length, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) ?? Number.NaN, throughput: throughput ?? latencies.length / seconds, seconds };
  };

  process.on('message', async (message: ToLoad) => {
    try {
      if (message.cmd === 'connect') {
        clients = message.clients;
        publishedAt = new Float64Array(clients.length * SLOTS);
        receivedAt = new Float64Array(clients.length * SLOTS);
        lastSeq = new Int32Array(clients.length).fill(-1);
        for (const [index, spec] of clients.entries()) jobIndex.set(spec.jobId, index);
        bus = await NatsEventBus.connect(NATS_URL, { namespace: message.namespace, stream: `${message.namespace.toUpperCase()}_EVENTS`, name: 'bench-load' });
        const started = performance.now();
        let failed = 0;
        for (let offset = 0; offset < clients.length; offset += 250) {
          const batch = clients.slice(offset, offset + 250).map((spec, i) => openClient(message.url, spec, offset + i));
          const results = await Promise.allSettled(batch);
          for (const result of results) {
            if (result.status === 'fulfilled') sockets.push(result.value);
            else failed++;
          }
        }
        send({ event: 'connected', ms: performance.now() - started, failed });
      } else if (message.cmd === 'steady') {
        // One event per job per second, spread evenly: a slice of the jobs every 10 ms.
        const slices = 100;
        const perSlice = Math.ceil(clients.length / slices);
        const started = performance.now();
        for (let second = 1; second <= message.seconds; second++) {
          for (let slice = 0; slice < slices; slice++) {
            const due = started + (second - 1) * 1000 + slice * 10;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            for (let index = slice * perSlice; index < Math.min(clients.length, (slice + 1) * perSlice); index++) publish(index, second);
          }
        }
        await settle(() => countReceived(1, message.seconds) >= clients.length * message.seconds, 5_000);
        send({ event: 'phase', result: summarize(1, message.seconds, (performance.now() - started) / 1000) });
      } else if (message.cmd === 'burst') {
        const first = STEADY_SECONDS + 1;
        const throughputs: number[] = [];
        for (let round = 0; round < message.rounds; round++) {
          const seq = first + round;
          const started = performance.now();
          for (let index = 0; index < clients.length; index++) publish(index, seq);
          await settle(() => countReceived(seq, seq) >= clients.length, 10_000);
          let last = 0;
          for (let index = 0; index < clients.length; index++) last = Math.max(last, receivedAt[index * SLOTS + seq]);
          throughputs.push(countReceived(seq, seq) / ((last - started) / 1000));
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        throughputs.sort((a, b) => a - b);
        send({ event: 'phase', result: summarize(first, first + message.rounds - 1, 0, throughputs[Math.floor(throughputs.length / 2)]) });
      } else if (message.cmd === 'close') {
        for (const socket of sockets) socket.terminate();
        sockets = [];
        await bus?.close();
        process.exit(0);
      }
    } catch (error) {
      send({ event: 'error', message: (error as Error).stack ?? String(error) });
    }
  });

  function countReceived(fromSeq: number, toSeq: number): number {
    let count = 0;
    for (let index = 0; index < clients.length; index++) for (let seq = fromSeq; seq <= toSeq; seq++) if (receivedAt[index * SLOTS + seq]) count++;
    return count;
  }

  async function settle(done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  function openClient(url: string, spec: ClientSpec, index: number): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'graphql-transport-ws');
      const timer = setTimeout(() => reject(new Error('no initial state within 60 s')), 60_000);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${spec.token}` } })));
      socket.on('error', (error) => reject(error));
      socket.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
      socket.on('message', (data) => {
        const now = performance.now();
        const message = JSON.parse(data.toString());
        if (message.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { id: spec.jobId } } }));
        } else if (message.type === 'next') {
          const job = message.payload.data?.jobUpdated;
          if (!job) return reject(new Error(JSON.stringify(message.payload)));
          const seq = job.progress.itemsDone as number;
          if (seq === 0) {
            clearTimeout(timer);
            resolve(socket);
            return;
          }
          const slot = jobIndex.get(job.id) ?? index;
          if (seq > lastSeq[slot]) lastSeq[slot] = seq;
          if (!receivedAt[slot * SLOTS + seq]) receivedAt[slot * SLOTS + seq] = now;
        } else if (message.type === 'error') {
          reject(new Error(JSON.stringify(message.payload)));
        }
      });
    });
  }
}
