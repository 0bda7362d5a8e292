/**
 * Every mutation that names another object checks it before it answers: through the gateway, an
 * id of another tenant's object and a random id each get the same NOT_FOUND at once, and nothing
 * is stored or queued (the tables that hold accounts, members, keys, notification settings,
 * connections, sources and jobs are unchanged). A PLATFORM restore's connection is covered with
 * real snapshots in backup-e2e.test.ts.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startStack, type SignedUp, type Stack } from '../gateway/test/support/stack.ts';

let stack: Stack;
let db: pg.Client;
let alice: SignedUp;
let bob: SignedUp;
/** Bob's objects, which Alice names. */
const bobs = { connectionId: randomUUID(), sourceId: randomUUID(), jobId: randomUUID(), membershipId: '', apiKeyId: '' };
/** Alice's own connection, so that only the foreign id is wrong in her calls. */
const alicesConnection = randomUUID();

const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await db.query(text, values)).rows as T[];

async function seedConnectionAndSource(accountId: string, connectionId: string, sourceId?: string): Promise<void> {
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, accountId],
  );
  if (!sourceId) return;
  await sql(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at, updated_at) values ($1, $2, $3, 'Payments', '{charges}', now(), now())`, [
    sourceId,
    accountId,
    connectionId,
  ]);
}

beforeAll(async () => {
  stack = await startStack();
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  [alice, bob] = await Promise.all([signUp(stack, undefined, 'Alice'), signUp(stack, undefined, 'Bob')]);
  await seedConnectionAndSource(bob.accountId, bobs.connectionId, bobs.sourceId);
  await seedConnectionAndSource(alice.accountId, alicesConnection);
  await sql(
    `insert into jobs.jobs (id, account_id, source_id, kind, status, params, trigger_kind, progress, created_at, updated_at)
     values ($1, $2, $3, 'BACKUP', 'FAILED', '{}', 'USER', '{"itemsDone":0,"bytesDone":0}', now(), now())`,
    [bobs.jobId, bob.accountId, bobs.sourceId],
  );
  bobs.membershipId = (await sql<{ id: string }>('select id from accounts.memberships where account_id = $1', [bob.accountId]))[0].id;
  const key = await stack.graphql(
    'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }',
    { input: { accountId: bob.accountId, name: 'ci', scopes: ['ACCOUNT_READ'] } },
    bob.accessToken,
  );
  bobs.apiKeyId = key.data.createApiKey.apiKey.id;
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
});

const STORED = [
  'accounts.accounts',
  'accounts.memberships',
  'accounts.api_keys',
  'accounts.notification_rules',
  'accounts.notification_endpoints',
  'platforms.connections',
  'sources.sources',
  'jobs.jobs',
];

/** What those tables hold, row for row. */
async function stored(): Promise<Record<string, string>> {
  const tables: Record<string, string> = {};
  for (const table of STORED) {
    const [row] = await sql<{ digest: string | null }>(`select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as digest from ${table} t`);
    tables[table] = row.digest ?? '';
  }
  return tables;
}

/** Each mutation with the id it names: `foreign` is Bob's, and a random id is tried in its place. */
const MUTATIONS: { name: string; query: string; variables: (id: string) => Record<string, unknown>; foreign: () => string }[] = [
  {
    name: 'createSource (connection)',
    query: 'mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }',
    variables: (id) => ({ input: { accountId: alice.accountId, connectionId: id, name: 'Mine', resources: ['charges'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } }),
    foreign: () => bobs.connectionId,
  },
  { name: 'updateSource', query: 'mutation ($id: ID!) { updateSource(id: $id, input: { name: "Renamed" }) { id } }', variables: (id) => ({ id }), foreign: () => bobs.sourceId },
  { name: 'pauseSource', query: 'mutation ($id: ID!) { pauseSource(id: $id) { id } }', variables: (id) => ({ id }), foreign: () => bobs.sourceId },
  { name: 'resumeSource', query: 'mutation ($id: ID!) { resumeSource(id: $id) { id } }', variables: (id) => ({ id }), foreign: () => bobs.sourceId },
  { name: 'deleteSource', query: 'mutation ($id: ID!) { deleteSource(id: $id, withSnapshots: true) }', variables: (id) => ({ id }), foreign: () => bobs.sourceId },
  { name: 'acknowledgeSnapshotAnomaly', query: 'mutation ($id: ID!) { acknowledgeSnapshotAnomaly(snapshotId: $id) { id } }', variables: (id) => ({ id }), foreign: () => randomUUID() },
  { name: 'triggerSync', query: 'mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }', variables: (id) => ({ id }), foreign: () => bobs.sourceId },
  { name: 'triggerSync (full)', query: 'mutation ($id: ID!) { triggerSync(sourceId: $id, full: true) { id } }', variables: (id) => ({ id }), foreign: () => bobs.sourceId },
  { name: 'cancelJob', query: 'mutation ($id: ID!) { cancelJob(id: $id) { id } }', variables: (id) => ({ id }), foreign: () => bobs.jobId },
  { name: 'retryJob', query: 'mutation ($id: ID!) { retryJob(id: $id) { id } }', variables: (id) => ({ id }), foreign: () => bobs.jobId },
  {
    name: 'createApiKeyConnection (account)',
    query: 'mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }',
    variables: (id) => ({ input: { accountId: id, platformSlug: 'stripe', apiKey: 'sk_test_guess' } }),
    foreign: () => bob.accountId,
  },
  {
    name: 'startOAuthConnection (account)',
    query: 'mutation ($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { authorizationUrl } }',
    variables: (id) => ({ input: { accountId: id, platformSlug: 'gitlab' } }),
    foreign: () => bob.accountId,
  },
  { name: 'testConnection', query: 'mutation ($id: ID!) { testConnection(id: $id) { ok } }', variables: (id) => ({ id }), foreign: () => bobs.connectionId },
  { name: 'renameConnection', query: 'mutation ($id: ID!) { renameConnection(id: $id, name: "Mine") { id } }', variables: (id) => ({ id }), foreign: () => bobs.connectionId },
  { name: 'revokeConnection', query: 'mutation ($id: ID!) { revokeConnection(id: $id) { revokedAtPlatform } }', variables: (id) => ({ id }), foreign: () => bobs.connectionId },
  { name: 'createAccount (parent)', query: 'mutation ($id: ID!) { createAccount(input: { name: "Child", parentId: $id }) { id } }', variables: (id) => ({ id }), foreign: () => bob.accountId },
  { name: 'renameAccount', query: 'mutation ($id: ID!) { renameAccount(id: $id, name: "Mine") { id } }', variables: (id) => ({ id }), foreign: () => bob.accountId },
  { name: 'deleteAccount', query: 'mutation ($id: ID!) { deleteAccount(id: $id, confirmName: "Bob") { id } }', variables: (id) => ({ id }), foreign: () => bob.accountId },
  { name: 'restoreAccount', query: 'mutation ($id: ID!) { restoreAccount(id: $id) { id } }', variables: (id) => ({ id }), foreign: () => bob.accountId },
  {
    name: 'addMember (account)',
    query: 'mutation ($id: ID!) { addMember(input: { accountId: $id, email: "someone@example.com", role: ADMIN }) { id } }',
    variables: (id) => ({ id }),
    foreign: () => bob.accountId,
  },
  { name: 'changeMemberRole', query: 'mutation ($id: ID!) { changeMemberRole(membershipId: $id, role: VIEWER) { id } }', variables: (id) => ({ id }), foreign: () => bobs.membershipId },
  { name: 'removeMember', query: 'mutation ($id: ID!) { removeMember(membershipId: $id) }', variables: (id) => ({ id }), foreign: () => bobs.membershipId },
  {
    name: 'createApiKey (account)',
    query: 'mutation ($id: ID!) { createApiKey(input: { accountId: $id, name: "mine", scopes: [ACCOUNT_READ] }) { secret } }',
    variables: (id) => ({ id }),
    foreign: () => bob.accountId,
  },
  { name: 'revokeApiKey', query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', variables: (id) => ({ id }), foreign: () => bobs.apiKeyId },
  { name: 'exportAuditLog (account)', query: 'mutation ($id: ID!) { exportAuditLog(accountId: $id, format: NDJSON) { url } }', variables: (id) => ({ id }), foreign: () => bob.accountId },
  {
    name: 'setNotificationRule (account)',
    query: 'mutation ($id: ID!) { setNotificationRule(accountId: $id, rule: { event: JOB_FAILED, email: false, inApp: true }) { email } }',
    variables: (id) => ({ id }),
    foreign: () => bob.accountId,
  },
  {
    name: 'createNotificationEndpoint (account)',
    query: 'mutation ($id: ID!) { createNotificationEndpoint(input: { accountId: $id, kind: WEBHOOK, name: "hook", url: "https://example.com/hook", events: [JOB_FAILED] }) { secret } }',
    variables: (id) => ({ id }),
    foreign: () => bob.accountId,
  },
  { name: 'updateNotificationEndpoint', query: 'mutation ($id: ID!) { updateNotificationEndpoint(id: $id, input: { enabled: false }) { id } }', variables: (id) => ({ id }), foreign: () => randomUUID() },
  { name: 'rotateNotificationEndpointSecret', query: 'mutation ($id: ID!) { rotateNotificationEndpointSecret(id: $id) { secret } }', variables: (id) => ({ id }), foreign: () => randomUUID() },
  { name: 'deleteNotificationEndpoint', query: 'mutation ($id: ID!) { deleteNotificationEndpoint(id: $id) }', variables: (id) => ({ id }), foreign: () => randomUUID() },
  { name: 'redeliverNotification', query: 'mutation ($id: ID!) { redeliverNotification(deliveryId: $id) { id } }', variables: (id) => ({ id }), foreign: () => randomUUID() },
];

describe('a mutation that names another tenant’s object, or none, through the gateway', () => {
  it('answers NOT_FOUND at once, the same for both, and stores nothing', async () => {
    const before = await stored();
    const answers: Record<string, unknown> = {};
    for (const mutation of MUTATIONS) {
      for (const [which, id] of [
        ['foreign', mutation.foreign()],
        ['random', randomUUID()],
      ] as const) {
        const result = await stack.graphql(mutation.query, mutation.variables(id), alice.accessToken);
        answers[`${mutation.name}, ${which}`] = { data: result.data ?? null, codes: result.errors?.map((error) => error.extensions?.code) };
      }
    }
    const expected = Object.fromEntries(Object.keys(answers).map((key) => [key, { data: null, codes: ['NOT_FOUND'] }]));
    expect(answers).toEqual(expected);
    expect(await stored()).toEqual(before);
  });

  it('refuses a backup of a source whose connection is revoked, failed or expired with CONNECTION_NOT_AUTHORIZED, and queues nothing', async () => {
    for (const status of ['REVOKED', 'FAILED', 'EXPIRED']) {
      const connectionId = randomUUID();
      const sourceId = randomUUID();
      await seedConnectionAndSource(alice.accountId, connectionId, sourceId);
      await sql('update platforms.connections set status = $1 where id = $2', [status, connectionId]);
      const before = await stored();
      const result = await stack.graphql('mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }', { id: sourceId }, alice.accessToken);
      expect(result.data?.triggerSync ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONNECTION_NOT_AUTHORIZED', field: 'sourceId', status });
      expect(result.errors?.[0]?.message).toBe(`The connection is ${status.toLowerCase()}; reconnect it before backing it up`);
      expect(await stored()).toEqual(before);
      await sql("update platforms.connections set status = 'AUTHORIZED' where id = $1", [connectionId]);
      const sync = await stack.graphql('mutation ($id: ID!) { triggerSync(sourceId: $id) { status } }', { id: sourceId }, alice.accessToken);
      expect(sync.data?.triggerSync).toEqual({ status: 'QUEUED' });
    }
  });

  it('still does each for the object’s owner (the ids are real)', async () => {
    const result = await stack.graphql('mutation ($id: ID!) { renameConnection(id: $id, name: "Stripe (Bob)") { name } }', { id: bobs.connectionId }, bob.accessToken);
    expect(result.data?.renameConnection).toEqual({ name: 'Stripe (Bob)' });
    const sync = await stack.graphql('mutation ($id: ID!) { triggerSync(sourceId: $id) { status } }', { id: bobs.sourceId }, bob.accessToken);
    expect(sync.data?.triggerSync).toEqual({ status: 'QUEUED' });
  });
});
