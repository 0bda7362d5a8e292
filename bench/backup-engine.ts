/**
 * One engine operation as its own process, so its wall time, CPU time and peak RSS are measured
 * the way restic's are (bench/backup.ts runs both under /usr/bin/time):
 *
 *   node bench/backup-engine.ts backup  <repository dir> <data dir>
 *   node bench/backup-engine.ts restore <repository dir> <target dir>
 *
 * Driven through the engine's own API: a Repository over a durable LocalDirectoryStore, runBackup
 * with four items at a time, each file an item with its size and modification time (its change
 * marker, so an unchanged file is not read again). The data key
 * comes from BENCH_DATA_KEY (hex). Prints one JSON line with the snapshot's totals.
 */
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { DirectoryTarget, fileChangeMarker, listSnapshots, LocalDirectoryStore, Repository, restoreSnapshot, runBackup, type SourceItem, StaticKeyProvider } from '@listbackup/engine';
import { listFiles } from './backup-data.ts';

const [op, repositoryDir, dir] = process.argv.slice(2);
const ACCOUNT = 'bench';
const SOURCE = 'files';
const key = Buffer.from(process.env.BENCH_DATA_KEY ?? '', 'hex');
if (!['backup', 'restore'].includes(op) || !repositoryDir || !dir || key.length !== 32) {
  console.error('usage: BENCH_DATA_KEY=<64 hex> node bench/backup-engine.ts backup|restore <repository dir> <data|target dir>');
  process.exit(2);
}

function* fileItems(root: string): Generator<SourceItem> {
  for (const path of listFiles(root)) {
    const full = join(root, path);
    const info = statSync(full);
    yield {
      id: path,
      path,
      size: info.size,
      modifiedAt: info.mtime,
      changeMarker: fileChangeMarker(info),
      content: () => createReadStream(full),
    };
  }
}

const repository = new Repository({ store: new LocalDirectoryStore(repositoryDir), keys: new StaticKeyProvider({ [ACCOUNT]: key }) });
try {
  if (op === 'backup') {
    const { snapshot } = await runBackup(repository, { accountId: ACCOUNT, sourceId: SOURCE, items: fileItems(dir), itemConcurrency: 4 });
    console.log(JSON.stringify({ snapshot: snapshot.id, totals: snapshot.totals }));
  } else {
    const account = await repository.account(ACCOUNT);
    const latest = (await listSnapshots(account, { sourceId: SOURCE })).at(-1);
    if (!latest) throw new Error('the repository holds no snapshot');
    const result = await restoreSnapshot(account, latest.id, new DirectoryTarget(dir));
    console.log(JSON.stringify({ snapshot: latest.id, ...result }));
  }
} finally {
  await repository.close();
}
