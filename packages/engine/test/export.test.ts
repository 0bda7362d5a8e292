import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../src/export.ts';
import { type SourceItem, runBackup } from '../src/pipeline.ts';
import type { SnapshotHeader } from '../src/snapshot.ts';
import { jsonRecords, piecesOf, randomBuffer, sha256, type TestRepo, tempDir, testRepository } from './support.ts';

const has = (tool: string) => spawnSync('which', [tool]).status === 0;
const hasTar = has('tar') && has('zstd');
const hasUnzip = has('unzip');

describe('export', () => {
  let r: TestRepo;
  let snapshot: SnapshotHeader;
  const longName = `${'deeply/nested/'.repeat(10)}a file name that is longer than one hundred bytes so ustar alone cannot hold it.txt`;
  const files = new Map<string, Buffer>([
    ['stripe/customers.ndjson', jsonRecords('export', 4000)],
    ['drive/photos/beach.jpg', randomBuffer('beach', 700_000)],
    ['drive/Überweisungen/März – 2026.pdf', randomBuffer('umlaut', 70_000)],
    [longName, Buffer.from('long name content\n')],
    ['empty.txt', Buffer.alloc(0)],
  ]);

  beforeAll(async () => {
    r = testRepository();
    const items: SourceItem[] = [...files.entries()].map(([path, data], i) => ({ id: `item-${i}`, path, modifiedAt: '2026-02-03T04:05:06Z', content: () => piecesOf(data) }));
    // Two items with the same path and one trying to escape the archive root.
    items.push({ id: 'dup', path: 'stripe/customers.ndjson', content: () => [Buffer.from('second customers file')] });
    items.push({ id: 'evil', path: '../../etc/passwd', content: () => [Buffer.from('not really')] });
    ({ snapshot } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items }));
  });
  afterAll(async () => r.cleanup());

  const expected = () =>
    new Map<string, string>([
      ...[...files.entries()].map(([path, data]) => [path, sha256(data)] as [string, string]),
      ['stripe/customers (2).ndjson', sha256(Buffer.from('second customers file'))],
      ['etc/passwd', sha256(Buffer.from('not really'))],
    ]);

  function extractedHashes(root: string): Map<string, string> {
    const out = new Map<string, string>();
    const list = spawnSync('find', [root, '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    for (const file of list) out.set(file.slice(root.length + 1), sha256(readFileSync(file)));
    return out;
  }

  async function exportTo(format: 'tar.zst' | 'zip', options: Record<string, unknown> = {}): Promise<{ file: string; root: string; cleanup: () => void }> {
    const { dir, cleanup } = tempDir('export');
    const account = await r.repository.account(r.accountId);
    const exported = await exportSnapshot(account, snapshot.id, { format, ...options });
    const file = join(dir, exported.fileName);
    await pipeline(exported.stream, createWriteStream(file));
    return { file, root: join(dir, 'out'), cleanup };
  }

  it.skipIf(!hasTar)('writes tar+zstd that tar extracts to byte-identical files', async () => {
    const { file, root, cleanup } = await exportTo('tar.zst');
    try {
      spawnSync('mkdir', ['-p', root]);
      const result = spawnSync('tar', ['--zstd', '-xf', file, '-C', root], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(extractedHashes(root)).toEqual(expected());
      const listing = spawnSync('tar', ['--zstd', '-tvf', file], { encoding: 'utf8' }).stdout;
      expect(listing).toContain('2026-02-03');
    } finally {
      cleanup();
    }
  });

  it.skipIf(!hasUnzip)('writes zip (stored and deflated, with and without zip64) that unzip extracts to byte-identical files', async () => {
    for (const options of [{}, { zipMethod: 'deflate' }, { forceZip64: true }, { zipMethod: 'deflate', forceZip64: true }]) {
      const { file, root, cleanup } = await exportTo('zip', options);
      try {
        const test = spawnSync('unzip', ['-tq', file], { encoding: 'utf8' });
        expect(test.stdout).toContain('No errors detected');
        const result = spawnSync('unzip', ['-q', file, '-d', root], { encoding: 'utf8' });
        expect(result.status).toBe(0);
        expect(extractedHashes(root)).toEqual(expected());
      } finally {
        cleanup();
      }
    }
  });

  it.skipIf(!hasUnzip)('exports only the chosen items', async () => {
    const { file, root, cleanup } = await exportTo('zip', { itemIds: ['item-1'] });
    try {
      spawnSync('unzip', ['-q', file, '-d', root]);
      expect(extractedHashes(root)).toEqual(new Map([['drive/photos/beach.jpg', sha256(files.get('drive/photos/beach.jpg')!)]]));
    } finally {
      cleanup();
    }
  });
});
