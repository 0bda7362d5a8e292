import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from '../src/store.ts';
import { objectStoreContract } from './store-contract.ts';
import { tempDir } from './support.ts';

describe('LocalDirectoryStore', () => {
  const { dir, cleanup } = tempDir('store');
  afterAll(cleanup);
  const open = () => new LocalDirectoryStore(dir);

  objectStoreContract('local', open);

  it('writes through a temporary file and leaves none behind', async () => {
    const store = open();
    await store.putIfAbsent('tmpcheck/chunks/aa/aabb', Buffer.from('x'));
    await store.putIfAbsent('tmpcheck/chunks/aa/aabb', Buffer.from('y'));
    await store.put('tmpcheck/config', Buffer.from('z'));
    await store.flush();
    expect(readdirSync(join(dir, 'tmpcheck', 'chunks', 'aa'))).toEqual(['aabb']);
    expect(readdirSync(join(dir, 'tmpcheck'))).toEqual(['chunks', 'config']);
  });

  it('does not list temporary files and clears stale ones left by a crash', async () => {
    const store = open();
    await store.putIfAbsent('stale/a', Buffer.from('kept'));
    const stale = join(dir, 'stale', '.tmp-deadbeef');
    writeFileSync(stale, 'half written');
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, old, old);
    const keys: string[] = [];
    for await (const info of store.list('stale/')) keys.push(info.key);
    expect(keys).toEqual(['stale/a']);
    expect(await store.removeStaleTemporaryFiles(3_600_000)).toBe(1);
    expect(() => statSync(stale)).toThrow();
    expect(await store.exists('stale/a')).toBe(true);
  });
});
