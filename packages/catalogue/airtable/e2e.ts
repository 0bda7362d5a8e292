import assert from 'node:assert/strict';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeAirtable } from './fake.ts';

export default {
  slug: 'airtable',
  async start() {
    const definition = definitionOf('airtable');
    const airtable = await new FakeAirtable().start();
    airtable.account = new FakeAccount({
      definition,
      identity: () => ({ id: 'usrE2E0000000001', email: 'table.user@example.com', scopes: definition.oauth2!.scopes }),
      accept: (token) => airtable.tokens.add(token),
      refuse: (token) => airtable.tokens.delete(token),
    });
    const base = airtable.addBase('Operations');
    const tasks = airtable.addTable(base, 'Tasks', [
      { name: 'Name', type: 'singleLineText' },
      { name: 'Done', type: 'checkbox' },
      { name: 'Files', type: 'multipleAttachments' },
    ]);
    // More records than one page of 100.
    for (let i = 0; i < 105; i++) airtable.addRecord(tasks, { Name: `Task ${i}`, Done: i % 2 === 0 });
    const withFile = airtable.addRecord(tasks, { Name: 'With a file', Files: [airtable.attachment('spec.pdf', 30_000)] });
    // Airtable reads a cleared field (null) as an empty one.
    const names = () => tasks.records.map((record) => ({ id: record.id, ...Object.fromEntries(Object.entries(airtable.fieldsByName(tasks, record)).filter(([, value]) => value !== null)) }));
    let before: unknown[] = [];
    return {
      apiRoot: apiRootAt(definition, airtable.url),
      account: airtable.account,
      origin: airtable.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const { tables, ...listed } of airtable.bases) {
          served.set(`bases/${listed.name}.json`, json({ ...listed, tables: tables.map(({ records: _records, ...table }) => table) }));
          for (const table of tables) {
            for (const { modifiedAt: _modified, ...record } of table.records) {
              const folder = `records/${listed.name}/${table.name}`;
              // Airtable leaves empty fields out (a restore clears a field with null).
              const fields = Object.fromEntries(Object.entries(record.fields).filter(([, value]) => value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)));
              served.set(`${folder}/${record.id}.json`, json({ ...record, fields }));
              for (const value of Object.values(record.fields)) {
                if (!Array.isArray(value)) continue;
                for (const attachment of value) served.set(`${folder}/${record.id}/${attachment.id}-${attachment.filename}`, Buffer.concat([...generatedBytes(attachment.id, 0, attachment.size)]));
              }
            }
          }
        }
        return served;
      },
      incremental: {
        resource: 'records',
        read: () => airtable.recordsServed(/^\/v0\/app[^/]+\/tbl[^/]+$/, (body) => body?.records),
        change() {
          airtable.advance(120_000);
          const record = tasks.records[1];
          airtable.editRecord(tasks, record, { Name: 'Renamed' });
          return `records/${base.name}/${tasks.name}/${record.id}.json`;
        },
      },
      restore: {
        resource: 'records',
        damage() {
          before = names();
          airtable.editRecord(tasks, tasks.records[3], { Name: 'Vandalised', Done: true });
          airtable.editRecord(tasks, withFile, { Name: 'Renamed' });
        },
        check() {
          assert.deepEqual(names(), before);
        },
      },
      close: () => airtable.close(),
    };
  },
} satisfies E2EPlatform;
