// The credential vault in the running service: envelope encryption bound to account, connection
// and purpose, and `npm run vault:rotate` rewrapping every data key while the service keeps working.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { Keyring, EnvelopeError, formatKeys, generateKek } from '@listbackup/lib/vault';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { CredentialVault } from '../src/services/credential-vault.ts';
import { errorCodes, newUser } from '../../jobs/test/support/subgraph-harness.ts';
import { startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const run = promisify(execFile);
const CREATE = `mutation($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`;

describe('credential vault', () => {
  let h: PlatformsHarness;
  let dir: string;
  let keyFile: string;
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();
  const keys = new Map<string, string>();

  const connect = async (principal: Principal, accountId: string) => {
    const key = `sk_test_${randomBytes(16).toString('hex')}`;
    h.api.stripeKeys.set(key, { id: `acct_${randomBytes(3).toString('hex')}`, name: 'Vault Co' });
    const result = await h.subgraph.query(principal, CREATE, { input: { accountId, platformSlug: 'stripe', apiKey: key } });
    expect(result.errors).toBeUndefined();
    const id = result.data!.createApiKeyConnection.id as string;
    keys.set(id, key);
    return { id, accountId };
  };
  const secrets = () => h.service.orm.em.fork().find(ConnectionSecret, {}, { orderBy: { connectionId: 'asc' } });
  const rotate = (args: string[], env: Record<string, string>) =>
    run(process.execPath, ['scripts/vault-rotate.ts', ...args], { env: { ...process.env, DATABASE_URL: h.databaseUrl, ...env }, cwd: process.cwd() });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lb-vault-rotate-'));
    keyFile = join(dir, 'vault-keys');
    // The single-process default: a key file generated on first start.
    h = await startPlatformsHarness({ vault: Keyring.fromFile(keyFile, { create: true }) });
    alice = newUser();
    bob = newUser();
    h.subgraph.access.grant(alice, accountA, 'admin').grant(bob, accountB, 'admin');
    // More connections than the Free plan allows (plan-limits.test.ts covers the limit).
    await h.putOnPlan('business', accountA, accountB);
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds each ciphertext to its account and connection: bytes copied to another row do not decrypt', async () => {
    const a1 = await connect(alice, accountA);
    const a2 = await connect(alice, accountA);
    const b1 = await connect(bob, accountB);
    const em = h.service.orm.em.fork();
    const source = await em.findOneOrFail(ConnectionSecret, { connectionId: a1.id });
    const copy = { kekId: source.kekId, wrappedKey: Buffer.from(source.wrappedKey), credentials: Buffer.from(source.credentials!) };
    const originals = new Map<string, ConnectionSecret>();
    for (const target of [a2, b1]) {
      originals.set(target.id, await h.service.orm.em.fork().findOneOrFail(ConnectionSecret, { connectionId: target.id }));
      // The whole vault row, then only the sealed credentials (keeping the target's own data key).
      await em.fork().nativeUpdate(ConnectionSecret, { connectionId: target.id }, copy);
      await expect(h.service.getAccessToken(target.accountId, target.id)).rejects.toBeInstanceOf(EnvelopeError);
      const original = originals.get(target.id)!;
      await em.fork().nativeUpdate(ConnectionSecret, { connectionId: target.id }, { kekId: original.kekId, wrappedKey: original.wrappedKey, credentials: copy.credentials });
      await expect(h.service.getAccessToken(target.accountId, target.id)).rejects.toBeInstanceOf(EnvelopeError);
      // Through the API the failure is masked, and says nothing of keys.
      const principal = target === b1 ? bob : alice;
      const tested = await h.subgraph.query(principal, `mutation($id: ID!) { testConnection(id: $id) { ok } }`, { id: target.id });
      expect(errorCodes(tested)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(JSON.stringify(tested)).not.toContain(keys.get(a1.id)!);
      await em.fork().nativeUpdate(ConnectionSecret, { connectionId: target.id }, { credentials: original.credentials });
      expect((await h.service.getAccessToken(target.accountId, target.id)).token).toBe(keys.get(target.id));
    }
    expect((await h.service.getAccessToken(accountA, a1.id)).token).toBe(keys.get(a1.id));
  });

  it('rewraps every data key under a new key with `vault:rotate --new-key` while the service keeps serving', async () => {
    const connections = [await connect(alice, accountA), await connect(bob, accountB)];
    const oldKey = h.service.keyring.current.id;
    expect(new Set((await secrets()).map((secret) => secret.kekId))).toEqual(new Set([oldKey]));

    // Workers keep asking for tokens during the rotation.
    let serving = true;
    let served = 0;
    const traffic = (async () => {
      while (serving && served < 2_000) {
        for (const { id, accountId } of connections) expect((await h.service.getAccessToken(accountId, id)).token).toBe(keys.get(id));
        served++;
      }
    })();
    const { stdout } = await rotate(['--new-key'], { VAULT_KEY_FILE: keyFile });
    serving = false;
    await traffic;
    expect(served).toBeGreaterThan(0);

    const fileKeys = Keyring.fromFile(keyFile);
    const newKey = fileKeys.current.id;
    expect(newKey).not.toBe(oldKey);
    expect(fileKeys.ids).toEqual([newKey, oldKey]);
    expect(stdout).toContain(`Current key: ${newKey}`);
    expect(stdout).toMatch(/Rewrapped \d+ data key/);
    expect(new Set((await secrets()).map((secret) => secret.kekId))).toEqual(new Set([newKey]));

    // The service picked the new key up from the file: it reads every row and wraps new ones under it.
    for (const id of keys.keys()) {
      const row = (await secrets()).find((secret) => secret.connectionId === id)!;
      expect((await h.service.getAccessToken(row.accountId, id)).token).toBe(keys.get(id));
    }
    const fresh = await connect(alice, accountA);
    expect((await secrets()).find((secret) => secret.connectionId === fresh.id)!.kekId).toBe(newKey);

    // Once nothing is wrapped under the old key, it can go.
    writeFileSync(keyFile, `${formatKeys([fileKeys.find(newKey)!])}\n`, { mode: 0o600 });
    const later = new Date(Date.now() + 10_000);
    utimesSync(keyFile, later, later);
    expect((await h.service.getAccessToken(fresh.accountId, fresh.id)).token).toBe(keys.get(fresh.id));
    expect(h.service.keyring.ids).toEqual([newKey]);
  });

  it('rotates under VAULT_KEYS (new key first, old still listed), after which the old key alone opens nothing', async () => {
    const generated = (await rotate(['--generate'], {})).stdout.trim();
    const next = Keyring.parse(generated).current;
    const current = readFileSync(keyFile, 'utf8').trim();
    const { stdout } = await rotate([], { VAULT_KEYS: `${generated},${current}` });
    expect(stdout).toContain(`Current key: ${next.id}`);
    expect(stdout).toContain('keys other than');
    const rows = await secrets();
    expect(rows.length).toBe(keys.size);
    expect(new Set(rows.map((secret) => secret.kekId))).toEqual(new Set([next.id]));
    const onlyNew = new CredentialVault(new Keyring([next]));
    const onlyOld = new CredentialVault(Keyring.parse(current));
    for (const row of rows) {
      expect(onlyNew.openCredentials(row)).toEqual({ kind: 'apiKey', apiKey: keys.get(row.connectionId) });
      expect(() => onlyOld.openCredentials(row)).toThrow(EnvelopeError);
    }
  });

  it('refuses a rotation it cannot do, with a clear message and a non-zero exit', async () => {
    const failure = await rotate(['--new-key'], { VAULT_KEYS: formatKeys([generateKek()]) }).catch((error) => error);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('--new-key changes the key file');
    const unknown = await rotate(['--sideways'], {}).catch((error) => error);
    expect(unknown.code).toBe(2);
    // A key list without the key the rows are wrapped under: every row is reported, none changed.
    const before = JSON.stringify(await secrets());
    const stranger = await rotate([], { VAULT_KEYS: formatKeys([generateKek()]) }).catch((error) => error);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain('Could not rewrap connection');
    expect(JSON.stringify(await secrets())).toBe(before);
  });
});
