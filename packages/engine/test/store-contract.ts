/** The ObjectStore contract, run against every backend. */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { EngineConfigError, ObjectNotFoundError } from '../src/errors.ts';
import { createObjectWriter, type ObjectStore, readAll } from '../src/store.ts';

export function objectStoreContract(name: string, open: () => ObjectStore, options: { concurrentPutIfAbsent?: boolean } = {}): void {
  const prefix = () => `t${randomBytes(4).toString('hex')}`;

  it(`${name}: putIfAbsent stores once and never replaces`, async () => {
    const store = open();
    const key = `${prefix()}/chunks/ab/abcdef`;
    expect(await store.putIfAbsent(key, Buffer.from('first'))).toBe(true);
    expect(await store.putIfAbsent(key, Buffer.from('second'))).toBe(false);
    expect((await store.getBytes(key)).toString()).toBe('first');
    expect(await readAll(await store.get(key))).toEqual(Buffer.from('first'));
  });

  if (options.concurrentPutIfAbsent !== false) {
    it(`${name}: of concurrent putIfAbsent calls on one key exactly one wins`, async () => {
      const store = open();
      const key = `${prefix()}/race`;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent(key, Buffer.from(`writer ${i}`))));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.getBytes(key)).toString()).toBe(`writer ${results.indexOf(true)}`);
    });
  }

  it(`${name}: getRange reads a region; a writer's object appears whole at commit, never replacing`, async () => {
    const store = open();
    const key = `${prefix()}/packs/ab/pack`;
    const writer = createObjectWriter(store, key);
    await Promise.all([writer.write(Buffer.from('hello ')), writer.write(Buffer.from('packed ')), writer.write(Buffer.from('world'))]);
    expect(writer.size).toBe(18);
    expect(await store.exists(key)).toBe(false);
    expect(await writer.commit()).toBe(true);
    expect((await store.getBytes(key)).toString()).toBe('hello packed world');
    expect((await store.getRange(key, 6, 6)).toString()).toBe('packed');
    expect((await store.getRange(key, 13, 100)).toString()).toBe('world');
    const second = createObjectWriter(store, key);
    await second.write(Buffer.from('other'));
    expect(await second.commit()).toBe(false);
    expect((await store.getBytes(key)).toString()).toBe('hello packed world');
    await expect(store.getRange(`${prefix()}/absent`, 0, 4)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it(`${name}: put replaces, head describes, delete removes (twice is fine)`, async () => {
    const store = open();
    const key = `${prefix()}/keys/data-key`;
    await store.put(key, Buffer.from('v1'));
    await store.put(key, Buffer.from('version 2'));
    expect((await store.getBytes(key)).toString()).toBe('version 2');
    const info = await store.head(key);
    expect(info).toMatchObject({ key, size: 9, tier: 'hot' });
    expect(info!.lastModified.getTime()).toBeGreaterThan(Date.now() - 3_600_000);
    expect(await store.exists(key)).toBe(true);
    await store.delete(key);
    await store.delete(key);
    expect(await store.exists(key)).toBe(false);
    expect(await store.head(key)).toBeNull();
  });

  it(`${name}: reading a missing object is ObjectNotFoundError`, async () => {
    const store = open();
    await expect(store.getBytes(`${prefix()}/missing`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get(`${prefix()}/missing`)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it(`${name}: lists by prefix in key order, including a prefix that ends mid-name`, async () => {
    const store = open();
    const p = prefix();
    const keys = [`${p}/a/1`, `${p}/a/2`, `${p}/ab/3`, `${p}/b/4`, `${p}x/5`];
    for (const key of [...keys].reverse()) await store.putIfAbsent(key, Buffer.from(key));
    const list = async (pre: string) => {
      const out: string[] = [];
      for await (const info of store.list(pre)) out.push(info.key);
      return out;
    };
    expect(await list(`${p}/`)).toEqual(keys.slice(0, 4));
    expect(await list(`${p}/a/`)).toEqual([`${p}/a/1`, `${p}/a/2`]);
    expect(await list(`${p}/a`)).toEqual([`${p}/a/1`, `${p}/a/2`, `${p}/ab/3`]);
    expect(await list(`${p}/zzz/`)).toEqual([]);
  });

  it(`${name}: rejects keys that could escape or collide`, async () => {
    const store = open();
    for (const key of ['../etc/passwd', '/abs', 'a//b', 'a/../b', 'a/.tmp-x', 'sp ace', '']) {
      await expect(store.putIfAbsent(key, Buffer.from('x'))).rejects.toBeInstanceOf(EngineConfigError);
    }
  });

  it(`${name}: setTier on a missing object is ObjectNotFoundError`, async () => {
    const store = open();
    await expect(store.setTier(`${prefix()}/missing`, 'warm')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
}
