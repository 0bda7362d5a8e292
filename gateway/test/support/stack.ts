/**
 * The whole product in this process for end-to-end tests: a fresh database, the in-process event
 * bus, the five subgraphs on free ports and the gateway in front of them — started the way
 * `npm start` starts them — with counters of what each subgraph was asked and what SQL it ran.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { HttpAccessResolver, type AccessResolver } from '@listbackup/lib/access';
import type { EventBus } from '@listbackup/lib/events/bus';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import type { Principal } from '@listbackup/lib/principal';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { SUBGRAPHS, type SubgraphName } from '@listbackup/lib/subgraphs';
import { startAccounts } from '../../../subgraphs/accounts/src/index.ts';
import { startPlatforms } from '../../../subgraphs/platforms/src/index.ts';
import { startSources } from '../../../subgraphs/sources/src/index.ts';
import { startJobs } from '../../../subgraphs/jobs/src/index.ts';
import { startBilling } from '../../../subgraphs/billing/src/index.ts';
import { startGateway, type GatewayOptions, type RunningGateway, type SubgraphRequest } from '../../src/index.ts';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface GraphQLResult<T = any> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

/** What happened in each subgraph since the last `reset()`. */
export interface Counters {
  /** Requests the gateway sent to each subgraph (query-plan fetches). */
  requests: Record<SubgraphName, SubgraphRequest[]>;
  /** Of those, the `_entities` requests. */
  entities(subgraph: SubgraphName): SubgraphRequest[];
  /** SQL statements each subgraph ran (without transaction control: begin/commit/rollback). */
  sql: Record<SubgraphName, string[]>;
  /** Role look-ups each non-accounts subgraph made to accounts (`/internal/access`). */
  accessCalls: Record<SubgraphName, number>;
  /** Total gateway → subgraph requests. */
  totalRequests(): number;
  reset(): void;
}

export interface Stack {
  gatewayUrl: string;
  gateway: RunningGateway;
  services: Record<SubgraphName, RunningService>;
  databaseUrl: string;
  internalTokenSecret: string;
  bus: EventBus;
  counters: Counters;
  /** POSTs to the gateway; `token` is an access token or API key sent as `Authorization: Bearer`. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>>;
  /** Stops one subgraph (to see the gateway cope); `close()` skips it afterwards. */
  stopSubgraph(name: SubgraphName): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Gateway settings to override (for example `auth.now` to move the cache clock). */
  gateway?: Partial<Pick<GatewayOptions, 'auth' | 'trustProxy'>>;
  logLevel?: string;
  /** The bus every service and the gateway use (NATS in tests that need it); default a fresh in-process bus. Not closed by the stack. */
  bus?: EventBus;
}

const subgraphNames = SUBGRAPHS.map((subgraph) => subgraph.name);
const byName = <T>(make: (name: SubgraphName) => T) => Object.fromEntries(subgraphNames.map((name) => [name, make(name)])) as Record<SubgraphName, T>;

// MikroORM colours its query log.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
const TRANSACTION_CONTROL = /^\s*(\[query\]\s*)?(begin|commit|rollback|savepoint|release savepoint|start transaction)\b/i;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = await createDatabase();
  const internalTokenSecret = randomBytes(32).toString('base64url');
  const log = createLogger('stack', options.logLevel ?? process.env.LOG_LEVEL ?? 'silent');
  const bus = options.bus ?? new InProcessEventBus();
  const durablePrefix = `lb_${randomBytes(4).toString('hex')}`;

  const requests = byName<SubgraphRequest[]>(() => []);
  const sql = byName<string[]>(() => []);
  const accessCalls = byName(() => 0);
  const counters: Counters = {
    requests,
    sql,
    accessCalls,
    entities: (name) => requests[name].filter((request) => /\b_entities\b/.test(request.query)),
    totalRequests: () => Object.values(requests).reduce((sum, list) => sum + list.length, 0),
    reset() {
      for (const name of subgraphNames) {
        requests[name].length = 0;
        sql[name].length = 0;
        accessCalls[name] = 0;
      }
    },
  };

  const runtime = (name: SubgraphName): Omit<ServiceRuntime, 'access'> => ({
    databaseUrl: database.url,
    bus,
    internalTokenSecret,
    log: log.child({ service: name }),
    port: 0,
    durablePrefix,
    onQuery: (message) => {
      const statement = stripAnsi(message);
      // The outbox relay and the audit log's consumer run in the background; their statements are not the request's.
      if (!TRANSACTION_CONTROL.test(statement) && !/outbox_events|audit_(entries|chains)|processed_events/.test(statement)) sql[name].push(statement);
    },
  });

  const started: RunningService[] = [];
  const stopped = new Set<string>();
  let gateway: RunningGateway | undefined;
  const close = async () => {
    await gateway?.close();
    for (const service of started.reverse()) if (!stopped.has(service.name)) await service.close();
    if (!options.bus) await bus.close();
    await database.drop();
  };

  try {
    const accounts = await startAccounts(runtime('accounts'));
    started.push(accounts);
    const accessFor = (name: SubgraphName) => countingAccess(new HttpAccessResolver(accounts.url, internalTokenSecret), () => accessCalls[name]++);
    // Sources and jobs call each other, so their ports are chosen before either starts.
    const [sourcesPort, jobsPort] = await Promise.all([freePort(), freePort()]);
    const sourcesUrl = `http://127.0.0.1:${sourcesPort}/graphql`;
    const jobsUrl = `http://127.0.0.1:${jobsPort}/graphql`;
    const platformsService = await startPlatforms({ ...runtime('platforms'), access: accessFor('platforms') });
    started.push(platformsService);
    const others: RunningService[] = [platformsService];
    for (const start of [
      () => startSources({ ...runtime('sources'), port: sourcesPort, access: accessFor('sources') }, { platformsUrl: platformsService.url, jobsUrl, scheduler: false }),
      () => startJobs({ ...runtime('jobs'), port: jobsPort, access: accessFor('jobs') }, { sourcesUrl, platformsUrl: platformsService.url }),
      () => startBilling({ ...runtime('billing'), access: accessFor('billing') }, { jobsUrl, reconciliation: false }),
    ]) {
      const service = await start();
      started.push(service);
      others.push(service);
    }
    const services = Object.fromEntries([accounts, ...others].map((service) => [service.name, service])) as Record<SubgraphName, RunningService>;

    gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: Object.fromEntries(Object.values(services).map((service) => [service.name, service.url])),
      accountsUrl: accounts.url,
      internalTokenSecret,
      log: log.child({ service: 'gateway' }),
      onSubgraphRequest: (request) => requests[request.subgraph as SubgraphName]?.push(request),
      accessEvents: bus,
      subscriptions: { bus },
      ...options.gateway,
    });
    const gatewayUrl = gateway.url;
    counters.reset();

    return {
      gatewayUrl,
      gateway,
      services,
      databaseUrl: database.url,
      internalTokenSecret,
      bus,
      counters,
      graphql: (query, variables, token) => postGraphQL(gatewayUrl, query, variables, token),
      async stopSubgraph(name) {
        if (stopped.has(name)) return;
        stopped.add(name);
        await services[name].close();
      },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

export async function postGraphQL<T = any>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResult<T>, 'status'>;
  return { status: response.status, ...body };
}

export interface SignedUp {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  /** The personal account created with the user, where they are owner. */
  accountId: string;
}

/** Signs a new user up through the gateway and returns their tokens and personal account. */
export async function signUp(stack: Pick<Stack, 'graphql'>, email = `user-${randomUUID()}@example.com`, name = 'Test User'): Promise<SignedUp> {
  const password = `correct horse battery ${randomBytes(4).toString('hex')}`;
  const result = await stack.graphql(
    `mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id memberships { edges { node { account { id } } } } } } }`,
    { input: { email, password, name } },
  );
  if (result.errors || !result.data) throw new Error(`signUp failed: ${JSON.stringify(result.errors ?? result)}`);
  const { accessToken, refreshToken, user } = result.data.signUp;
  return { email, password, userId: user.id, accessToken, refreshToken, accountId: user.memberships.edges[0].node.account.id };
}

function countingAccess(inner: AccessResolver, count: () => void): AccessResolver {
  return {
    rolesOn(principal, accountIds) {
      count();
      return inner.rolesOn(principal, accountIds);
    },
    ...(inner.factsOn && {
      factsOn(principal: Principal, accountIds: readonly string[]) {
        count();
        return inner.factsOn!(principal, accountIds);
      },
    }),
    visibleAccounts(principal) {
      count();
      return inner.visibleAccounts(principal);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `lb_${randomBytes(6).toString('hex')}`;
  const admin = async (sqlText: string) => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(sqlText);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
