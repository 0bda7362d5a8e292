import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '@listbackup/lib/config';

/** The embedded PostgreSQL `npm start` runs when DATABASE_URL is unset (it must be running), for the operator commands. */
export function embeddedUrl(dataDir: string, embeddedPort: number): string {
  const passwordFile = `${dataDir}/postgres/listbackup-password`;
  if (!existsSync(passwordFile)) throw new ConfigError(`DATABASE_URL is not set and there is no embedded PostgreSQL under ${dataDir}/postgres`);
  const password = readFileSync(passwordFile, 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${embeddedPort}/listbackup`;
}
