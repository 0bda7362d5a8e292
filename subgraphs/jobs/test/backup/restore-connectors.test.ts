/**
 * "Restore is byte-identical to the source data, for every connector", at the handler level: each
 * connector's data is backed up by a real BACKUP job (the product's handler, run by the jobs worker:
 * connector fetch → engine pipeline → sealed store), then the snapshot is restored by the engine to
 * a directory and compared byte for byte with what the platform served. PostgreSQL is also written
 * back by a real RESTORE job (target PLATFORM) into a second, empty database and compared row for row.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemMetadata } from '../../src/backup/engine-runtime.ts';
import type { RestDefinition } from '@listbackup/lib/rest-definition';
import { DirectoryTarget, readSnapshot, restoreSnapshot, snapshotItems } from '@listbackup/engine';
import { type Fakes, generatedBytes, startFakes } from '@listbackup/catalogue/testing/fakes';
import { FOLDER, GOOGLE_DOC } from '@listbackup/catalogue/google-drive/fake';
import { type BackupRig, freshDatabase, startBackupRig, withClient } from './support.ts';

/** Text that JSON, NDJSON and SQL all have reasons to mangle. */
const AWKWARD = 'Ünïcødé 🚀 "quoted" \\back\\slash\ttab\nnew line </script> \u2028 ∑ 日本語';

type Resource = string;
/** `resource:platform id` → the bytes the platform served for that item. */
type Expected = Map<string, Buffer>;

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

describe('restore is byte-identical to the source data, for every connector (BACKUP handler → engine restore)', () => {
  let fakes: Fakes;
  let rig: BackupRig;
  let pgSource: Awaited<ReturnType<typeof freshDatabase>>;
  let pgTarget: Awaited<ReturnType<typeof freshDatabase>>;
  const accountId = randomUUID();
  const dirs: string[] = [];

  const restDefinition = (): RestDefinition => ({
    name: 'Acme CRM',
    baseUrl: `${fakes.rest.url}/api`,
    auth: { type: 'header', name: 'X-API-Key' },
    resources: [
      { name: 'contacts', path: 'contacts', items: '/data', pagination: { style: 'cursor', nextCursor: '/next_cursor', limit: 20 } },
      { name: 'tickets', path: 'tickets', items: '/items', pagination: { style: 'cursor', cursorParam: 'starting_after', hasMore: '/has_more', limit: 15 } },
      { name: 'orders', path: 'orders', items: '/results', pagination: { style: 'page', size: 10, totalPages: '/total_pages' } },
      { name: 'notes', path: 'notes', pagination: { style: 'link', sizeParam: 'per_page', size: 7 } },
    ],
  });

  beforeAll(async () => {
    fakes = await startFakes();
    pgSource = await freshDatabase();
    pgTarget = await freshDatabase();
    rig = await startBackupRig(
      { baseUrls: fakes.baseUrls },
      {
        github: { platform: 'github', credentials: { accessToken: 'ghp_valid' } },
        drive: { platform: 'google-drive', credentials: { accessToken: 'ya29.valid' } },
        rest: { platform: 'rest', credentials: { apiKey: 'k_valid' }, definition: restDefinition() },
        'pg-source': { platform: 'postgresql', credentials: { connectionString: pgSource.url } },
        'pg-target': { platform: 'postgresql', credentials: { connectionString: pgTarget.url } },
      },
    );
  });

  afterAll(async () => {
    await rig?.close();
    await fakes?.close();
    await pgSource?.drop();
    await pgTarget?.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs a BACKUP job for a source on `connectionId`, restores its snapshot with the engine into a
   * fresh directory, and returns each restored file's bytes by `resource:platform id`.
   */
  async function backupAndRestore(connectionId: string, resources: Resource[]): Promise<{ restored: Expected; engineSnapshotId: string; sourceId: string }> {
    const source = rig.sources.add(accountId, connectionId, resources);
    const job = await rig.run(accountId, 'BACKUP', source.id);
    const engineSnapshotId = String(job.result!.engineSnapshotId);
    expect(rig.sources.recorded.find((r) => r.jobId === job.id)).toMatchObject({ sourceId: source.id, accountId, partial: false });

    const dir = await mkdtemp(join(tmpdir(), 'lb-restored-'));
    dirs.push(dir);
    const account = await rig.repository.account(accountId);
    const target = new DirectoryTarget(dir);
    const result = await restoreSnapshot(account, engineSnapshotId, target);
    const header = await readSnapshot(account, engineSnapshotId);
    expect(result.itemsRestored).toBe(header.totals.items);

    const restored: Expected = new Map();
    for await (const item of snapshotItems(account, header)) {
      const meta = itemMetadata(item.metadata);
      expect(meta, `item ${item.path} has no metadata`).not.toBeNull();
      const key = `${meta!.resource}:${meta!.id}`;
      expect(restored.has(key), `${key} restored twice`).toBe(false);
      restored.set(key, await readFile(target.pathOf(item)));
    }
    return { restored, engineSnapshotId, sourceId: source.id };
  }

  /** Same keys, and for each the same bytes (a mismatch names the item). */
  function expectIdentical(restored: Expected, expected: Expected): void {
    expect([...restored.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, bytes] of expected) {
      const got = restored.get(key)!;
      expect(got.length, `${key}: size`).toBe(bytes.length);
      expect(got.equals(bytes), `${key}: bytes differ`).toBe(true);
    }
  }

  it('GitHub: repositories, issues, pull requests and releases restore as the JSON the API served, across Link pages', async () => {
    const { github } = fakes;
    github.addRepo('octo/alpha', { description: AWKWARD });
    github.addRepo('octo/beta', { description: null, private: true });
    // More than one page of 100 issues: the Link header is followed.
    for (let i = 0; i < 105; i++) github.addIssue('octo/alpha', `Issue ${i} ${i % 10 === 0 ? AWKWARD : ''}`, { labels: i % 3 ? [] : [{ id: i, name: 'bug' }] });
    github.addIssue('octo/beta', 'Closed one', { state: 'closed', closed_at: '2024-01-02T03:04:05Z', body: null });
    github.addPull('octo/alpha', `Pull with ${AWKWARD}`);
    github.addPull('octo/beta', 'Plain pull');
    github.updatePull('octo/beta', 2, { state: 'closed', merged_at: '2024-02-03T04:05:06Z' });
    github.addRelease('octo/alpha', 'v1.0.0');
    github.addRelease('octo/alpha', 'v1.1.0-rc/1');

    const { restored } = await backupAndRestore('github', ['repositories', 'issues', 'pull_requests', 'releases']);

    const expected: Expected = new Map();
    for (const state of github.repos) {
      expected.set(`repositories:${state.repo.id}`, json(state.repo));
      for (const issue of state.issues) if (!issue.pull_request) expected.set(`issues:${issue.id}`, json(issue));
      for (const pull of state.pulls) expected.set(`pull_requests:${pull.id}`, json(pull));
      for (const release of state.releases) expected.set(`releases:${release.id}`, json(release));
    }
    expect(expected.size).toBe(2 + 106 + 2 + 2);
    expectIdentical(restored, expected);
    // The restored issue pages were served by more than one request per repository.
    expect(github.requestsTo('/repos/octo/alpha/issues').filter((r) => r.status === 200).length).toBeGreaterThan(1);
  });

  it('Google Drive: binary files (empty, small, odd-sized, multi-MB, duplicated, in folders) and an exported Doc restore byte for byte', async () => {
    const { drive } = fakes;
    const folder = drive.add('Reports 2024', FOLDER);
    const nested = drive.add('Q1 & Q2', FOLDER, { parent: folder.id });
    const files = [
      drive.add('empty.bin', 'application/octet-stream', { size: 0 }),
      drive.add('tiny.txt', 'text/plain', { size: 1 }),
      drive.add('odd.pdf', 'application/pdf', { size: 65_537, parent: folder.id }),
      drive.add('photo.jpg', 'image/jpeg', { size: 700_001, parent: nested.id }),
      drive.add('big archive.zip', 'application/zip', { size: 6 * 1024 * 1024 + 123, parent: folder.id }),
      // Same bytes as photo.jpg under another name: deduplicated in storage, restored twice.
      drive.add('photo copy.jpg', 'image/jpeg', { size: 700_001, seed: drive.files.find((f) => f.name === 'photo.jpg')!.seed }),
      drive.add(`Ünïcødé 🚀 name.dat`, 'application/octet-stream', { size: 4099 }),
    ];
    const doc = drive.add('Meeting notes', GOOGLE_DOC, { parent: nested.id });

    const { restored } = await backupAndRestore('drive', ['files']);

    const expected: Expected = new Map();
    for (const file of files) expected.set(`files:${file.id}`, Buffer.concat([...generatedBytes(file.seed!, 0, Number(file.size))]));
    const exported = drive.requestsTo(`/drive/v3/files/${doc.id}/export`).find((r) => r.status === 200);
    expect(exported, 'the Doc was exported').toBeDefined();
    expected.set(`files:${doc.id}`, drive.exported(doc, exported!.query.get('mimeType')!));
    expectIdentical(restored, expected);
    expect(restored.get(`files:${files[4].id}`)!.length).toBe(6 * 1024 * 1024 + 123);
  });

  it('generic REST: records from cursor, starting_after, page-number and Link pagination restore as the JSON served', async () => {
    const { rest } = fakes;
    for (let i = 0; i < 45; i++) rest.add('contacts', { name: i % 7 ? `Person ${i}` : AWKWARD, email: `p${i}@example.com`, tags: ['a', i], address: { city: 'Zürich', zip: null } });
    for (let i = 0; i < 31; i++) rest.add('tickets', { subject: `Ticket ${i}`, open: i % 2 === 0, priority: i % 4, ratio: i / 3 });
    for (let i = 0; i < 23; i++) rest.add('orders', { total: i * 10.5, big: 2 ** 53 - i, tiny: 1e-7 * i, lines: [{ sku: `S${i}`, qty: i }] });
    for (let i = 0; i < 15; i++) rest.add('notes', { text: `${AWKWARD} #${i}`, empty: '', nested: { deep: { deeper: [[], {}] } } });

    const { restored } = await backupAndRestore('rest', ['contacts', 'tickets', 'orders', 'notes']);

    const expected: Expected = new Map();
    for (const [collection, records] of Object.entries(rest.collections)) for (const record of records) expected.set(`${collection}:${record.id}`, json(record));
    expect(expected.size).toBe(45 + 31 + 23 + 15);
    expectIdentical(restored, expected);
  });

  describe('PostgreSQL', () => {
    /** Tables as `schema.table` with the column(s) that order their rows. */
    const TABLES: Record<string, string> = {
      'public.customers': 'id',
      'public.order_lines': 'order_id, line',
      'public.readings': 'id',
      'public.empty_table': 'id',
      'archive.events': 'id',
    };

    beforeAll(async () => {
      await withClient(pgSource.url, async (db) => {
        await db.query(`
          create table customers (
            id bigint generated always as identity primary key,
            name text not null,
            name_upper text generated always as (upper(name)) stored,
            tags text[],
            scores integer[],
            balance numeric(30, 10),
            rate double precision,
            small real,
            created_at timestamptz not null,
            born date,
            local_at timestamp(6),
            wait interval,
            meta jsonb,
            raw json,
            avatar bytea,
            active boolean,
            uid uuid,
            code char(5),
            note varchar(200),
            updated_at timestamptz
          );
          create table order_lines (order_id integer not null, line smallint not null, qty integer not null, price numeric, primary key (order_id, line));
          create table readings (id integer primary key, value double precision, at timestamptz);
          create table empty_table (id integer primary key, label text);
          create schema archive;
          create table archive.events (id uuid primary key, kind text, payload jsonb, occurred_at timestamptz);
        `);
        await db.query(
          `insert into customers (name, tags, scores, balance, rate, small, created_at, born, local_at, wait, meta, raw, avatar, active, uid, code, note, updated_at) values
            ($1::text, '{"a","b c","q\\"uote",NULL}', '{1,-2,3}', 12345678901234567890.0123456789, 0.1, 1.5, '2024-02-29 23:59:59.123456+00', '1970-01-01',
             '2000-01-01 00:00:00.000001', '1 year 2 mons 3 days 04:05:06.789', '{"k": [1, 2.50, {"x": null}], "u": "é🚀"}', '{ "spaced" :  [1,2] , "b":1 }',
             '\\x00ff10deadbeef', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'ab', $1::text, now()),
            ('NULLs', null, null, null, null, null, '1999-12-31 23:00:00-05', null, null, null, null, null, null, null, null, null, null, null),
            ('specials', '{}', '{}', -0.0000000001, 'NaN', '-Infinity', '2038-01-19 03:14:08+00', 'infinity', '-infinity', '-1 day', '[]', '"a string"',
             '\\x', false, '00000000-0000-0000-0000-000000000000', 'abcde', '', '2024-06-01 12:00:00+02')`,
          [AWKWARD],
        );
        await db.query(`insert into customers (name, created_at, balance, scores) select 'bulk ' || g, '2024-01-01'::timestamptz + g * interval '1 second', g / 7.0, array[g, g * 2] from generate_series(1, 300) g`);
        await db.query(`insert into order_lines select o, l, o * l, round((o * 1.1 + l)::numeric, 3) from generate_series(1, 60) o, generate_series(1, 5) l`);
        // More rows than the connector's cursor batch (1000): the item is several batches long.
        await db.query(`insert into readings select g, sin(g) * 1e6, '2020-01-01'::timestamptz + g * interval '1.5 seconds' from generate_series(1, 2600) g`);
        await db.query(`insert into archive.events select md5(g::text)::uuid, 'kind-' || (g % 4), jsonb_build_object('n', g, 'label', $1::text), now() from generate_series(1, 40) g`, [AWKWARD]);
      });
    });

    /** Each table's rows as `row_to_json` lines in key order: the NDJSON the connector promises. */
    async function rowsAsNdjson(url: string): Promise<Map<string, string>> {
      return withClient(url, async (db: pg.Client) => {
        const out = new Map<string, string>();
        for (const [table, order] of Object.entries(TABLES)) {
          const { rows } = await db.query<{ line: string }>(`select row_to_json(t)::text as line from ${table} t order by ${order}`);
          out.set(table, rows.map((r) => `${r.line}\n`).join(''));
        }
        return out;
      });
    }

    async function columnTypes(url: string): Promise<unknown[]> {
      return withClient(url, async (db) => {
        const { rows } = await db.query(
          `select n.nspname as schema, c.relname as table, a.attnum, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null
             from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
            where c.relkind = 'r' and n.nspname in ('public', 'archive') and a.attnum > 0 and not a.attisdropped
            order by 1, 2, 3`,
        );
        return rows;
      });
    }

    it('tables (tricky types, NULLs, several cursor batches, an empty table) restore to files byte-identical to the rows, and into a fresh database with equal rows', async () => {
      const source = await rowsAsNdjson(pgSource.url);
      const { restored, engineSnapshotId, sourceId } = await backupAndRestore('pg-source', ['tables']);

      const expected: Expected = new Map([...source].map(([table, ndjson]) => [`tables:${table}`, Buffer.from(ndjson, 'utf8')]));
      expect(source.get('public.readings')!.split('\n').length - 1).toBe(2600);
      expect(source.get('public.empty_table')).toBe('');
      expectIdentical(restored, expected);

      // The RESTORE handler writes the same snapshot back through the connector into another database.
      const restore = await rig.run(accountId, 'RESTORE', sourceId, {
        snapshotId: `snap-${engineSnapshotId}`,
        engineSnapshotId,
        target: 'PLATFORM',
        connectionId: 'pg-target',
      });
      expect(restore.result).toMatchObject({ restored: { items: Object.keys(TABLES).length, target: 'PLATFORM', connectionId: 'pg-target' } });
      const target = await rowsAsNdjson(pgTarget.url);
      for (const table of Object.keys(TABLES)) expect(target.get(table), `${table} rows`).toBe(source.get(table));
      // Same columns, types and constraints (the generated column comes back as a plain column holding its values).
      expect(await columnTypes(pgTarget.url)).toEqual(await columnTypes(pgSource.url));
    });
  });
});
