// `npm run vault:rotate`: rewraps every connection's data key under the current key-encryption
// key, while the services keep running. Secrets are not re-encrypted, only their data keys.
//
// With VAULT_KEYS (deployments):
//   1. generate a key:        npm run vault:rotate -- --generate        (prints id:base64key)
//   2. put it first:          VAULT_KEYS=<new>,<old> on every platforms instance (rolling restart)
//   3. rewrap:                VAULT_KEYS=<new>,<old> DATABASE_URL=… npm run vault:rotate
//   4. when it reports nothing left under <old>, drop <old> from VAULT_KEYS.
// Without VAULT_KEYS (the single-process default of `npm start`, key file .data/vault-keys):
//   npm run vault:rotate -- --new-key     adds a fresh key to the file and rewraps; the running
//                                          service notices the file changed and reads both keys.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseConfig, port, runMain } from '@listbackup/lib/config';
import { openDatabase } from '@listbackup/lib/db';
import { Keyring, formatKeys, generateKek, prependKeyToFile } from '@listbackup/lib/vault';
import { database } from '../subgraphs/platforms/src/database.ts';
import { CredentialVault } from '../subgraphs/platforms/src/services/credential-vault.ts';
import { rewrapAllDataKeys } from '../subgraphs/platforms/src/services/vault-rotation.ts';
import { embeddedUrl } from './embedded-url.ts';

const Config = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  VAULT_KEYS: z.string().optional(),
  DATA_DIR: z.string().default('.data'),
  VAULT_KEY_FILE: z.string().optional(),
  EMBEDDED_POSTGRES_PORT: port(5433),
});

const USAGE = `Usage: npm run vault:rotate [-- --new-key | --generate]
  (no flag)   rewrap every data key under the first key of VAULT_KEYS (or of the key file)
  --new-key   add a fresh key to the key file (.data/vault-keys) first; not with VAULT_KEYS
  --generate  print a fresh id:base64key for VAULT_KEYS and change nothing`;

await runMain(async () => {
  const flags = new Set(process.argv.slice(2));
  for (const flag of flags) if (!['--new-key', '--generate', '--help'].includes(flag)) throw new ConfigError(`Unknown option ${flag}\n${USAGE}`);
  if (flags.has('--help')) return console.log(USAGE);
  if (flags.has('--generate')) return console.log(formatKeys([generateKek()]));

  const config = parseConfig(Config);
  const keyFile = config.VAULT_KEY_FILE ?? `${config.DATA_DIR}/vault-keys`;
  let keyring: Keyring;
  if (config.VAULT_KEYS) {
    if (flags.has('--new-key')) throw new ConfigError('--new-key changes the key file; with VAULT_KEYS, put the new key first in VAULT_KEYS instead (see --generate)');
    keyring = Keyring.parse(config.VAULT_KEYS);
  } else {
    if (!existsSync(keyFile)) throw new ConfigError(`No VAULT_KEYS and no key file at ${keyFile}: nothing to rotate`);
    if (flags.has('--new-key')) {
      const kek = generateKek();
      prependKeyToFile(keyFile, kek);
      console.log(`Added key ${kek.id} to ${keyFile} (the previous keys stay readable).`);
    }
    keyring = Keyring.fromFile(keyFile);
  }

  const url = config.DATABASE_URL ?? embeddedUrl(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT);
  const orm = await openDatabase({ url, ...database, poolMax: 2 });
  try {
    const report = await rewrapAllDataKeys(orm, new CredentialVault(keyring));
    console.log(`Current key: ${report.currentKekId}. Rewrapped ${report.rewrapped} data key(s).`);
    console.log(`Data keys per key id now: ${JSON.stringify(report.remaining)}`);
    const others = Object.keys(report.remaining).filter((id) => id !== report.currentKekId);
    if (others.length === 0) console.log(`Nothing is wrapped under another key: keys other than ${report.currentKekId} can be removed.`);
    for (const failure of report.failed) console.error(`Could not rewrap connection ${failure.connectionId} (key ${failure.kekId}): ${failure.reason}`);
    if (report.failed.length) process.exitCode = 1;
  } finally {
    await orm.close();
  }
});
