// `npm run storage:rotate`: rewraps every account's backup data key under the current
// key-encryption key, while backups run. Chunks are not re-encrypted, only the wrapped data keys.
//
// With STORAGE_KEYS (deployments):
//   1. generate a key:   npm run storage:rotate -- --generate           (prints id:base64key)
//   2. put it first:     STORAGE_KEYS=<new>,<old> on the jobs subgraph and every worker (rolling restart)
//   3. rewrap:           STORAGE_KEYS=<new>,<old> DATABASE_URL=… STORAGE_… npm run storage:rotate
//                        (interrupted? run it again: it resumes where it stopped)
//   4. when it reports nothing left under <old>, drop <old> from STORAGE_KEYS. Before that, the
//      jobs subgraph and the workers refuse to start without it.
// Without STORAGE_KEYS (the single-process default of `npm start`, key file .data/storage-keys):
//   npm run storage:rotate -- --new-key   adds a fresh key to the file and rewraps; the running
//                                          service notices the file changed and reads both keys.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseConfig, port, runMain } from '@listbackup/lib/config';
import { openDatabase } from '@listbackup/lib/db';
import { formatKeys, generateKek, prependKeyToFile } from '@listbackup/engine/envelope';
import { database } from '../subgraphs/jobs/src/database.ts';
import { latestStorageKeyReport, rotateStorageKeys, storageKeysStillNeeded, type StorageKeyReport } from '../subgraphs/jobs/src/backup/key-rotation.ts';
import type { Orm } from '@listbackup/lib/db';
import { storageFromEnv } from '../subgraphs/jobs/src/backup/settings.ts';
import { embeddedUrl } from './embedded-url.ts';

const Config = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  STORAGE_KEYS: z.string().optional(),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_POSTGRES_PORT: port(5433),
});

const USAGE = `Usage: npm run storage:rotate [-- --new-key | --generate | --status | --restart]
  (no flag)   rewrap every account's data key under the first key of STORAGE_KEYS (or of the key
              file), resuming an interrupted pass; reports the data keys per key id
  --status    print the newest pass's report and change nothing
  --restart   start a fresh pass instead of resuming an unfinished one
  --new-key   add a fresh key to the key file (.data/storage-keys) first; not with STORAGE_KEYS
  --generate  print a fresh id:base64key for STORAGE_KEYS and change nothing`;

const FLAGS = ['--new-key', '--generate', '--status', '--restart', '--help'];

await runMain(async () => {
  const flags = new Set(process.argv.slice(2));
  for (const flag of flags) if (!FLAGS.includes(flag)) throw new ConfigError(`Unknown option ${flag}\n${USAGE}`);
  if (flags.has('--help')) return console.log(USAGE);
  if (flags.has('--generate')) return console.log(formatKeys([generateKek()]));

  const config = parseConfig(Config);
  const keyFile = `${config.DATA_DIR}/storage-keys`;
  if (config.STORAGE_KEYS) {
    if (flags.has('--new-key')) throw new ConfigError('--new-key changes the key file; with STORAGE_KEYS, put the new key first in STORAGE_KEYS instead (see --generate)');
  } else {
    if (!existsSync(keyFile)) throw new ConfigError(`No STORAGE_KEYS and no key file at ${keyFile}: nothing to rotate`);
    if (flags.has('--new-key')) {
      const kek = generateKek();
      prependKeyToFile(keyFile, kek);
      console.log(`Added key ${kek.id} to ${keyFile} (the previous keys stay readable).`);
    }
  }
  const storage = await storageFromEnv(process.env, { dataDir: config.DATA_DIR, localKeyFile: config.STORAGE_KEYS ? undefined : keyFile });

  const url = config.DATABASE_URL ?? embeddedUrl(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT);
  const orm = await openDatabase({ url, ...database, poolMax: 2 });
  try {
    if (flags.has('--status')) {
      const report = await latestStorageKeyReport(orm);
      if (!report) return console.log('No storage:rotate pass has run yet.');
      return await print(orm, report, storage.keyring.ids);
    }
    console.log(`Rewrapping data keys under ${storage.keyring.current.id} (storage: ${storage.description}).`);
    const report = await rotateStorageKeys(orm, storage, {
      restart: flags.has('--restart'),
      onProgress: (progress) => {
        if (!progress.finishedAt) console.log(`  ${progress.accountsDone}/${progress.accountsTotal} accounts, ${progress.rewrapped} rewrapped`);
      },
    });
    if (report.resumed) console.log(`Resumed pass ${report.passId}.`);
    await print(orm, report, storage.keyring.ids);
    if (report.failures.length) process.exitCode = 1;
  } finally {
    await orm.close();
  }
});

async function print(orm: Orm, report: StorageKeyReport, held: string[]): Promise<void> {
  const state = report.finishedAt ? `finished ${report.finishedAt.toISOString()}` : 'unfinished (run storage:rotate again to resume)';
  console.log(`Pass ${report.passId} towards ${report.targetKekId}, ${state}: ${report.accountsDone} of ${report.accountsTotal} account(s) looked at, ${report.rewrapped} data key(s) rewrapped.`);
  console.log(`Data keys per key id: ${JSON.stringify(report.keys)}`);
  for (const failure of report.failures) console.error(`Could not rewrap account ${failure.accountId} (key ${failure.kekId}): ${failure.reason}`);
  // The same rule the jobs subgraph and the workers apply at start to a key ring without the key.
  const removable: string[] = [];
  for (const id of held.filter((id) => id !== held[0])) {
    const needed = (await storageKeysStillNeeded(orm, held.filter((other) => other !== id))).get(id);
    if (needed === undefined) removable.push(id);
    else if (needed === null) console.log(`Key ${id} is not reported unused by a finished pass begun since it was first held: keep it in STORAGE_KEYS and run storage:rotate.`);
    else console.log(`Key ${id} still wraps ${needed} data key(s): keep it in STORAGE_KEYS.`);
  }
  if (removable.length) console.log(`Nothing is wrapped under ${removable.join(', ')}: ${removable.length === 1 ? 'it' : 'they'} can be removed from STORAGE_KEYS.`);
}
