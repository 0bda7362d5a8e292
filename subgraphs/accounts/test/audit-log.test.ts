import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createLogger } from '@listbackup/lib/logger';
import { createEvent } from '@listbackup/lib/events/contract';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER } from '@listbackup/lib/subgraph';
import { handleAuditEvent } from '../src/events/audit-consumer.ts';
import { pruneAuditLog, verifyChain } from '../src/services/audit-log.ts';
import { SECRET, client, errorCode, rows, seedUser, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
let alice: SeededUser;
let bob: SeededUser;
const log = createLogger('audit-test', 'silent');

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
  alice = await seedUser(harness.orm, 'audit-alice');
  bob = await seedUser(harness.orm, 'audit-bob');
});
afterAll(async () => {
  await harness?.stop();
});

/** A call as the gateway makes it, with the client's address and user agent. */
async function asClient(principal: Principal, query: string, variables: Record<string, unknown> = {}, where = { ip: '203.0.113.5', userAgent: 'AuditTest/2.0' }) {
  const response = await fetch(`${harness.baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [INTERNAL_TOKEN_HEADER]: await signInternalToken(SECRET, 'accounts', { principal, requestId: randomUUID() }),
      [CLIENT_IP_HEADER]: where.ip,
      [USER_AGENT_HEADER]: where.userAgent,
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

const LOG = `query ($id: ID!, $filter: AuditLogFilter, $first: Int, $after: String) {
  account(id: $id) {
    auditLog(filter: $filter, first: $first, after: $after) {
      edges { cursor node { sequence action actor { kind id ip userAgent } target { type id } before after details occurredAt hash } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

async function auditLog(principal: Principal, accountId: string, variables: Record<string, unknown> = {}) {
  const result = await api.gql(principal, LOG, { id: accountId, ...variables });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.account.auditLog.edges.map((edge: { node: unknown }) => edge.node) as any[];
}

async function waitForEntry(accountId: string, action: string, count = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [{ n }] = await rows<{ n: number }>(harness.orm, 'select count(*)::int as n from accounts.audit_entries where account_id = ? and action = ?', [accountId, action]);
    if (n >= count) return;
    if (Date.now() > deadline) throw new Error(`no ${action} entry in ${accountId}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the audit log', () => {
  it('records who changed what from where, with the values before and after', async () => {
    const renamed = await asClient(alice.principal, 'mutation ($id: ID!) { renameAccount(id: $id, name: "Alice & Co") { name } }', { id: alice.account.id });
    expect(renamed.data.renameAccount.name).toBe('Alice & Co');
    await waitForEntry(alice.account.id, 'account.updated');
    const [entry] = await auditLog(alice.principal, alice.account.id, { filter: { actions: ['account.updated'] } });
    expect(entry).toMatchObject({
      action: 'account.updated',
      actor: { kind: 'USER', id: alice.user.id, ip: '203.0.113.5', userAgent: 'AuditTest/2.0' },
      target: { type: 'Account', id: alice.account.id },
      before: { name: alice.account.name },
      after: { name: 'Alice & Co' },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('records members invited and given another role, and API keys created and revoked', async () => {
    const email = `invitee-${randomUUID().slice(0, 8)}@example.test`;
    const added = await asClient(alice.principal, 'mutation ($i: AddMemberInput!) { addMember(input: $i) { id } }', { i: { accountId: alice.account.id, email, role: 'VIEWER' } });
    const membershipId = added.data.addMember.id;
    await asClient(alice.principal, 'mutation ($m: ID!) { changeMemberRole(membershipId: $m, role: OPERATOR) { role } }', { m: membershipId });
    const key = await asClient(alice.principal, 'mutation ($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } secret } }', {
      i: { accountId: alice.account.id, name: 'CI', scopes: ['JOBS_RUN'] },
    });
    const keyId = key.data.createApiKey.apiKey.id;
    await asClient(alice.principal, 'mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: keyId });
    await waitForEntry(alice.account.id, 'apikey.revoked');

    const entries = await auditLog(alice.principal, alice.account.id, { filter: { actions: ['member.*', 'apikey.*'] } });
    expect(entries.map((entry) => entry.action)).toEqual(['apikey.revoked', 'apikey.created', 'member.role_changed', 'member.invited']);
    expect(entries[2]).toMatchObject({ target: { type: 'Membership', id: membershipId }, before: { role: 'viewer' }, after: { role: 'operator' } });
    expect(entries[1]).toMatchObject({ target: { type: 'ApiKey', id: keyId }, details: { name: 'CI', scopes: ['jobs:run'] } });
    expect(JSON.stringify(entries[1])).not.toContain(key.data.createApiKey.secret);
  });

  it('applies an event once, however often it is delivered', async () => {
    const event = createEvent('source.paused', alice.account.id, randomUUID(), { accountId: alice.account.id, sourceId: randomUUID() });
    await handleAuditEvent(harness.orm, log, event);
    await handleAuditEvent(harness.orm, log, event);
    await Promise.all([handleAuditEvent(harness.orm, log, event), handleAuditEvent(harness.orm, log, event)]);
    expect(await rows(harness.orm, 'select sequence from accounts.audit_entries where event_id = ?', [event.id])).toHaveLength(1);
    expect((await verifyChain(harness.orm.em, alice.account.id)).valid).toBe(true);
  });

  it('filters by actor, action family, target and time range, and pages newest first', async () => {
    const sourceId = randomUUID();
    const start = new Date();
    for (const type of ['source.paused', 'source.resumed', 'source.paused'] as const) {
      await handleAuditEvent(harness.orm, log, createEvent(type, bob.account.id, sourceId, { accountId: bob.account.id, sourceId }, { actor: { kind: 'apiKey', id: 'key-1' } }));
    }
    await handleAuditEvent(harness.orm, log, createEvent('source.paused', bob.account.id, randomUUID(), { accountId: bob.account.id, sourceId: randomUUID() }));

    const byActor = await auditLog(bob.principal, bob.account.id, { filter: { actorId: 'key-1', actorKind: 'API_KEY' } });
    expect(byActor.map((entry) => entry.action)).toEqual(['source.paused', 'source.resumed', 'source.paused']);
    expect(await auditLog(bob.principal, bob.account.id, { filter: { targetType: 'Source', targetId: sourceId, actions: ['source.resumed'] } })).toHaveLength(1);
    expect(await auditLog(bob.principal, bob.account.id, { filter: { actions: ['source.*'], from: start.toISOString() } })).toHaveLength(4);
    expect(await auditLog(bob.principal, bob.account.id, { filter: { actions: ['source.*'], to: start.toISOString() } })).toHaveLength(0);

    const first = await api.gql(bob.principal, LOG, { id: bob.account.id, first: 2, filter: { actions: ['source.*'] } });
    const page = first.data!.account.auditLog;
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await auditLog(bob.principal, bob.account.id, { first: 10, after: page.pageInfo.endCursor, filter: { actions: ['source.*'] } });
    expect(rest).toHaveLength(2);
    expect([...page.edges.map((edge: any) => edge.node.sequence), ...rest.map((entry) => entry.sequence)]).toEqual(
      [...page.edges.map((edge: any) => edge.node.sequence), ...rest.map((entry) => entry.sequence)].sort((a, b) => b - a),
    );
  });

  it('refuses a bad filter or cursor with a clear code', async () => {
    const bad = (variables: Record<string, unknown>) => api.gql(bob.principal, LOG, { id: bob.account.id, ...variables });
    expect(errorCode(await bad({ filter: { actions: ["job'; drop table"] } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await bad({ filter: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' } }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await bad({ after: 'bm90LWEtY3Vyc29y' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await bad({ first: -1 }))).toBe('BAD_USER_INPUT');
  });
});

describe('the audit log is append-only', () => {
  it('the database refuses to update, delete or truncate an entry, even for its owner', async () => {
    await waitForEntry(alice.account.id, 'account.created');
    for (const statement of ["update accounts.audit_entries set action = 'nothing.happened'", 'delete from accounts.audit_entries', 'truncate accounts.audit_entries']) {
      await expect(rows(harness.orm, statement)).rejects.toThrow(/append-only/);
    }
    expect((await rows(harness.orm, 'select count(*)::int as n from accounts.audit_entries'))[0]).not.toEqual({ n: 0 });
  });

  it('a verification finds an entry changed, removed or moved behind the trigger', async () => {
    const account = (await seedUser(harness.orm, 'audit-tamper')).account.id;
    for (let n = 0; n < 4; n++) await handleAuditEvent(harness.orm, log, createEvent('source.paused', account, randomUUID(), { accountId: account, sourceId: randomUUID() }));
    await waitForEntry(account, 'account.created');
    const intact = await verifyChain(harness.orm.em, account);
    expect(intact).toMatchObject({ valid: true, entriesChecked: 5, headSequence: 5 });

    // Someone with the database's keys disables the trigger and edits an entry.
    const tamper = async (statement: string) => {
      await rows(harness.orm, `begin; alter table accounts.audit_entries disable trigger audit_entries_append_only; ${statement}; alter table accounts.audit_entries enable trigger audit_entries_append_only; commit`);
    };
    await tamper(`update accounts.audit_entries set details = '{"sourceId":"forged"}' where account_id = '${account}' and sequence = 3`);
    expect(await verifyChain(harness.orm.em, account)).toMatchObject({ valid: false, firstInvalidSequence: 3, reason: 'entry 3 was changed after it was recorded' });

    const other = (await seedUser(harness.orm, 'audit-delete')).account.id;
    for (let n = 0; n < 3; n++) await handleAuditEvent(harness.orm, log, createEvent('source.paused', other, randomUUID(), { accountId: other, sourceId: randomUUID() }));
    await waitForEntry(other, 'account.created');
    await tamper(`delete from accounts.audit_entries where account_id = '${other}' and sequence = 2`);
    expect(await verifyChain(harness.orm.em, other)).toMatchObject({ valid: false, firstInvalidSequence: 2, reason: 'entry 2 is missing' });

    const newest = (await seedUser(harness.orm, 'audit-head')).account.id;
    for (let n = 0; n < 2; n++) await handleAuditEvent(harness.orm, log, createEvent('source.paused', newest, randomUUID(), { accountId: newest, sourceId: randomUUID() }));
    await waitForEntry(newest, 'account.created');
    await tamper(`delete from accounts.audit_entries where account_id = '${newest}' and sequence = 3`);
    expect(await verifyChain(harness.orm.em, newest)).toMatchObject({ valid: false, reason: 'entries after 2 are missing' });

    // Through the graph, for roles with audit:read.
    const result = await api.gql(alice.principal, '{ account(id: "' + alice.account.id + '") { auditLogVerification { valid entriesChecked headSequence headHash } } }');
    expect(result.data!.account.auditLogVerification).toMatchObject({ valid: true, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('retention deletes what the plan no longer keeps, and the chain still verifies from there', async () => {
    const account = (await seedUser(harness.orm, 'audit-retention')).account.id;
    await waitForEntry(account, 'account.created');
    const day = 86_400_000;
    const now = Date.now();
    for (const age of [40, 20, 5]) {
      await handleAuditEvent(harness.orm, log, createEvent('source.paused', account, randomUUID(), { accountId: account, sourceId: randomUUID() }, { time: new Date(now - age * day) }));
    }
    // Billing moves the account to a plan that keeps 30 days.
    await handleAuditEvent(harness.orm, log, createEvent('account.upgraded', account, account, { accountId: account, fromPlan: 'free', toPlan: 'team', auditLogRetentionDays: 30 }));
    await pruneAuditLog(harness.orm, new Date(now));
    const kept = await rows<{ sequence: number }>(harness.orm, 'select sequence from accounts.audit_entries where account_id = ? order by sequence', [account]);
    // account.created (now), then the 40-day-old entry (2, gone), 20 and 5 days old, and the plan change.
    expect(kept.map((row) => Number(row.sequence))).toEqual([3, 4, 5]);
    expect(await verifyChain(harness.orm.em, account)).toMatchObject({ valid: true, entriesChecked: 3, headSequence: 5 });
  });
});

describe('tenant isolation', () => {
  it('another account, a viewer and a key without audit:read see nothing', async () => {
    expect(errorCode(await api.gql(bob.principal, LOG, { id: alice.account.id }))).toBe('NOT_FOUND');
    expect(errorCode(await api.gql(bob.principal, LOG, { id: randomUUID() }))).toBe('NOT_FOUND');
    const verification = await api.gql(bob.principal, `{ account(id: "${alice.account.id}") { auditLogVerification { valid } } }`);
    expect(errorCode(verification)).toBe('NOT_FOUND');

    const viewerEmail = bob.email;
    await api.gql(alice.principal, 'mutation ($i: AddMemberInput!) { addMember(input: $i) { id } }', { i: { accountId: alice.account.id, email: viewerEmail, role: 'VIEWER' } });
    expect(errorCode(await api.gql(bob.principal, LOG, { id: alice.account.id }))).toBe('FORBIDDEN');

    const key = await api.gql(alice.principal, 'mutation ($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }', { i: { accountId: alice.account.id, name: 'reader', scopes: ['JOBS_READ'] } });
    const keyPrincipal: Principal = { kind: 'apiKey', apiKeyId: key.data!.createApiKey.apiKey.id, accountId: alice.account.id, scopes: ['jobs:read'] };
    expect(errorCode(await api.gql(keyPrincipal, LOG, { id: alice.account.id }))).toBe('FORBIDDEN');
    // The log records both asynchronously; the export below counts every entry.
    await waitForEntry(alice.account.id, 'member.added');
    await waitForEntry(alice.account.id, 'apikey.created', 2);
  });

  it('through _entities too', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { auditLog { edges { node { action } } } } } }';
    const stranger = await seedUser(harness.orm, 'audit-stranger');
    const foreign = await api.gql(stranger.principal, query, { r: [{ __typename: 'Account', id: alice.account.id }] });
    expect(foreign.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(foreign.data)).not.toContain('account.');
    const own = await api.gql(alice.principal, query, { r: [{ __typename: 'Account', id: alice.account.id }] });
    expect(own.data!._entities[0].auditLog.edges.length).toBeGreaterThan(0);
  });
});

describe('export', () => {
  async function exportLink(principal: Principal, format: 'NDJSON' | 'CSV', filter?: Record<string, unknown>) {
    const result = await api.gql(principal, 'mutation ($a: ID!, $f: AuditExportFormat!, $filter: AuditLogFilter) { exportAuditLog(accountId: $a, format: $f, filter: $filter) { url expiresAt } }', {
      a: alice.account.id,
      f: format,
      filter,
    });
    return result;
  }

  async function download(url: string, principal: Principal) {
    const path = new URL(url);
    return fetch(`${harness.baseUrl}/internal/audit-log/export${path.search}`, {
      headers: { [INTERNAL_TOKEN_HEADER]: await signInternalToken(SECRET, 'accounts', { principal, requestId: randomUUID() }) },
    });
  }

  it('as NDJSON and as CSV, every entry in chain order, and records that it was downloaded', async () => {
    const link = (await exportLink(alice.principal, 'NDJSON')).data!.exportAuditLog;
    expect(link.url).toMatch(/\/downloads\/audit-log\?token=/);
    const ndjson = await download(link.url, alice.principal);
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await ndjson.text()).trim().split('\n').map((line) => JSON.parse(line));
    const stored = await rows<{ n: number }>(harness.orm, 'select count(*)::int as n from accounts.audit_entries where account_id = ?', [alice.account.id]);
    expect(lines).toHaveLength(stored[0].n);
    expect(lines.map((line) => line.sequence)).toEqual(lines.map((_, index) => index + 1));
    expect(lines.find((line) => line.action === 'account.updated')).toMatchObject({ before: { name: alice.account.name }, after: { name: 'Alice & Co' } });

    const csvLink = (await exportLink(alice.principal, 'CSV', { actions: ['member.*'] })).data!.exportAuditLog;
    const csv = await (await download(csvLink.url, alice.principal)).text();
    const [header, ...records] = csv.trim().split('\r\n');
    expect(header).toBe('sequence,occurredAt,action,actorKind,actorId,actorIp,actorUserAgent,targetType,targetId,before,after,details,previousHash,hash');
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.every((record) => /^\d+,[^,]+,member\./.test(record))).toBe(true);
    await waitForEntry(alice.account.id, 'audit.exported', 2);
  });

  it('is for audit:read holders of the account only; a changed or expired link is refused', async () => {
    expect(errorCode(await api.gql(bob.principal, 'mutation ($a: ID!) { exportAuditLog(accountId: $a, format: CSV) { url } }', { a: randomUUID() }))).toBe('NOT_FOUND');
    const link = (await exportLink(alice.principal, 'NDJSON')).data!.exportAuditLog;
    expect((await download(link.url, bob.principal)).status).toBe(404);
    const token = new URL(link.url).searchParams.get('token')!;
    const [payload, mac] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), accountId: bob.account.id })).toString('base64url');
    expect((await download(`http://x/?token=${forgedPayload}.${mac}`, bob.principal)).status).toBe(404);
    expect(errorCode(await exportLink(alice.principal, 'CSV', { actions: ['not an action'] }))).toBe('BAD_USER_INPUT');
  });
});
