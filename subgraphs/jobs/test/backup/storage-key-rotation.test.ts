import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Orm } from '@listbackup/lib/db';
import { ConfigError } from '@listbackup/lib/config';
import { DecryptionError, type Kek, Keyring, LocalDirectoryStore, layout, readAll, Repository, StoreKeyProvider, type WriteItemResult } from '@listbackup/engine';
import type { WrappedDataKey } from '@listbackup/engine';
import { database } from '../../src/database.ts';
import { Job } from '../../src/entities/job.ts';
import { assertRetiredStorageKeysUnused, latestStorageKeyReport, rotateStorageKeys } from '../../src/backup/key-rotation.ts';
import { createTestDatabase } from '../support/subgraph-harness.ts';

const run = promisify(execFile);
const kek = (id: string): Kek => ({ id, key: randomBytes(32) });
const spec = (...keys: Kek[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

describe('storage:rotate', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let orm: Orm;
  let dir: string;
  let store: LocalDirectoryStore;
  const old = kek('s1');
  const next = kek('s2');
  const accounts: string[] = [];
  const written = new Map<string, { bytes: Buffer; result: WriteItemResult }>();

  const wrappedKek = async (accountId: string) => (JSON.parse((await store.getBytes(layout.dataKey(accountId))).toString('utf8')) as WrappedDataKey).kekId;
  const readBack = async (keys: Kek[], accountId: string) => {
    const repository = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring(keys)) });
    const account = await repository.account(accountId);
    return readAll(account.readItem(written.get(accountId)!.result.chunks));
  };
  const addJob = async (accountId: string) => {
    const em = orm.em.fork();
    em.create(Job, { accountId, kind: 'BACKUP', status: 'SUCCEEDED' });
    await em.flush();
  };
  const backUp = async (keys: Kek[], accountId: string) => {
    const repository = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring(keys)) });
    const bytes = randomBytes(40_000);
    const result = await repository.writeItem(accountId, [bytes]);
    await repository.flush();
    written.set(accountId, { bytes, result });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await openDatabase({ url: db.url, ...database });
    dir = await mkdtemp(join(tmpdir(), 'lb-storage-rotate-'));
    store = new LocalDirectoryStore(dir);
    for (let i = 0; i < 25; i++) {
      const accountId = randomUUID();
      accounts.push(accountId);
      await addJob(accountId);
      await backUp([old], accountId);
    }
    accounts.sort();
    // An account whose jobs never stored anything has no data key: looked at (last, by id), not counted.
    await addJob('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });

  afterAll(async () => {
    await orm?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rewraps every data key under the newest KEK, resuming an interrupted pass, while backups write', async () => {
    await assertRetiredStorageKeysUnused(orm, new Keyring([next])); // no pass yet: nothing known, nothing refused
    const storage = { store, keyring: new Keyring([next, old]) };

    const progress: number[] = [];
    const interrupted = await rotateStorageKeys(orm, storage, { batchSize: 10, maxBatches: 1, onProgress: (report) => progress.push(report.accountsDone) });
    expect(interrupted).toMatchObject({ finishedAt: null, accountsDone: 10, accountsTotal: 26, resumed: false });
    expect(progress).toEqual([10]);
    expect((await Promise.all(accounts.map(wrappedKek))).filter((id) => id === 's2')).toHaveLength(10);

    // A backup of a not-yet-rotated account (the pass goes in id order) runs while the pass resumes.
    const busy = accounts[accounts.length - 1];
    const [finished] = await Promise.all([
      rotateStorageKeys(orm, storage, { batchSize: 10, onProgress: (report) => progress.push(report.accountsDone) }),
      backUp([next, old], busy),
    ]);
    expect(finished).toMatchObject({ resumed: true, accountsDone: 26, accountsTotal: 26, rewrapped: 25, keys: { s2: 25 }, failures: [] });
    expect(finished.finishedAt).toBeInstanceOf(Date);
    expect(progress).toEqual([10, 20, 26, 26]);

    expect(new Set(await Promise.all(accounts.map(wrappedKek)))).toEqual(new Set(['s2']));
    for (const accountId of accounts) expect((await readBack([next], accountId)).equals(written.get(accountId)!.bytes)).toBe(true);
    await expect(readBack([old], accounts[0])).rejects.toThrow(DecryptionError);

    await assertRetiredStorageKeysUnused(orm, new Keyring([next]));
    expect(await latestStorageKeyReport(orm)).toMatchObject({ targetKekId: 's2', keys: { s2: 25 } });
  });

  it('reports a data key it cannot rewrap, and a key ring without that KEK is refused until a pass reports it unused', async () => {
    const straggler = randomUUID();
    await addJob(straggler);
    await backUp([old], straggler); // a worker that still had only the old key first

    const withoutOld = await rotateStorageKeys(orm, { store, keyring: new Keyring([next]) });
    expect(withoutOld.keys).toEqual({ s2: 25, s1: 1 });
    expect(withoutOld.failures).toEqual([expect.objectContaining({ accountId: straggler, kekId: 's1' })]);
    await expect(assertRetiredStorageKeysUnused(orm, new Keyring([next]))).rejects.toThrow(ConfigError);
    await expect(assertRetiredStorageKeysUnused(orm, new Keyring([next]))).rejects.toThrow(/"s1" \(still wraps 1 account data key/);
    await assertRetiredStorageKeysUnused(orm, new Keyring([next, old]));

    const fixed = await rotateStorageKeys(orm, { store, keyring: new Keyring([next, old]) });
    expect(fixed).toMatchObject({ keys: { s2: 26 }, rewrapped: 1, failures: [] });
    await assertRetiredStorageKeysUnused(orm, new Keyring([next]));
    expect((await readBack([next], straggler)).equals(written.get(straggler)!.bytes)).toBe(true);
  });

  it('is the npm run storage:rotate command: progress, the report per key id, and --status', async () => {
    const third = kek('s3');
    const env = { ...process.env, DATABASE_URL: db.url, STORAGE_KEYS: spec(third, next), STORAGE_DIR: dir };
    const script = join(import.meta.dirname, '../../../../scripts/storage-rotate.ts');
    const { stdout } = await run(process.execPath, [script], { env });
    expect(stdout).toContain('Rewrapping data keys under s3');
    expect(stdout).toMatch(/Pass \d+ towards s3, finished .*: 27 of 27 account\(s\) looked at, 26 data key\(s\) rewrapped\./);
    expect(stdout).toContain('Data keys per key id: {"s3":26}');
    expect(stdout).toContain('Nothing is wrapped under s2: it can be removed from STORAGE_KEYS.');
    const status = await run(process.execPath, [script, '--status'], { env });
    expect(status.stdout).toContain('Data keys per key id: {"s3":26}');
    await expect(run(process.execPath, [script, '--bogus'], { env })).rejects.toMatchObject({ stderr: expect.stringContaining('Unknown option --bogus') });
  });
});

describe('a KEK leaves the key ring only once storage:rotate has reported it unused', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let orm: Orm;
  let dir: string;
  let store: LocalDirectoryStore;
  const first = kek('k-first');
  const second = kek('k-second');
  const third = kek('k-third');
  const ring = (...keys: Kek[]) => new Keyring(keys);
  const script = join(import.meta.dirname, '../../../../scripts/storage-rotate.ts');

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await openDatabase({ url: db.url, ...database });
    dir = await mkdtemp(join(tmpdir(), 'lb-storage-retire-'));
    store = new LocalDirectoryStore(dir);
    const accountId = randomUUID();
    const em = orm.em.fork();
    em.create(Job, { accountId, kind: 'BACKUP', status: 'SUCCEEDED' });
    await em.flush();
    const repository = new Repository({ store, keys: new StoreKeyProvider(store, ring(first)) });
    await repository.writeItem(accountId, [randomBytes(1000)]);
    await repository.flush();
  });

  afterAll(async () => {
    await orm?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a ring without a KEK held before, though no pass ever ran, until a pass begun since has finished', async () => {
    await assertRetiredStorageKeysUnused(orm, ring(first)); // the services run with the first key
    const unreported = /"k-first" \(held before, and no storage:rotate pass begun since has reported it unused\)/;
    await expect(assertRetiredStorageKeysUnused(orm, ring(second))).rejects.toThrow(unreported);
    await assertRetiredStorageKeysUnused(orm, ring(second, first));

    // A pass that has not finished reports nothing yet.
    const started = await rotateStorageKeys(orm, { store, keyring: ring(second, first) }, { maxBatches: 0 });
    expect(started.finishedAt).toBeNull();
    await expect(assertRetiredStorageKeysUnused(orm, ring(second))).rejects.toThrow(unreported);
    const finished = await rotateStorageKeys(orm, { store, keyring: ring(second, first) });
    expect(finished).toMatchObject({ resumed: true, keys: { 'k-second': 1 }, failures: [] });
    await assertRetiredStorageKeysUnused(orm, ring(second));

    // A key first held after that pass cannot go on its report, even though it wraps nothing.
    await assertRetiredStorageKeysUnused(orm, ring(third, second));
    await expect(assertRetiredStorageKeysUnused(orm, ring(second))).rejects.toThrow(/"k-third" \(held before/);
  });

  it('stops a jobs worker at start whose STORAGE_KEYS lacks such a KEK, and --status says which key may go', async () => {
    const env = { ...process.env, DATABASE_URL: db.url, STORAGE_DIR: dir, INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'), NATS_URL: '', METRICS_PORT: '0' };
    const worker = join(import.meta.dirname, '../../src/worker.ts');
    const refused = await run(process.execPath, [worker], { env: { ...env, STORAGE_KEYS: spec(second) } }).then(
      () => ({ code: 0, stderr: 'started' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/STORAGE_KEYS: lacks "k-third" \(held before, and no storage:rotate pass begun since has reported it unused\)/);

    const status = await run(process.execPath, [script, '--status'], { env: { ...env, STORAGE_KEYS: spec(third, second, first) } });
    expect(status.stdout).toContain('Data keys per key id: {"k-second":1}');
    expect(status.stdout).toContain('Key k-second still wraps 1 data key(s): keep it in STORAGE_KEYS.');
    expect(status.stdout).toContain('Nothing is wrapped under k-first: it can be removed from STORAGE_KEYS.');
  });
});
