import { LockMode } from '@mikro-orm/core';
import type { Orm } from '@listbackup/lib/db';
import { EnvelopeError } from '@listbackup/lib/vault';
import { ConnectionSecret } from '../entities/connection-secret.ts';
import type { CredentialVault } from './credential-vault.ts';

export interface RotationReport {
  currentKekId: string;
  rewrapped: number;
  /** Rows whose data key could not be unwrapped (unknown or wrong key): listed, left as they are. */
  failed: { connectionId: string; kekId: string; reason: string }[];
  /** Rows per key id after the run. */
  remaining: Record<string, number>;
}

/**
 * Rewraps every connection's data key under the vault's current KEK, in small transactions,
 * while the service keeps running: rows are claimed `FOR UPDATE SKIP LOCKED`, so a token refresh
 * holding a row is never blocked (its row is picked up on a later pass). Secrets are not
 * re-encrypted; only the 60-byte wrapped keys change, so old and new KEKs must both be in the
 * keyring until this reports nothing left under the old one.
 */
export async function rewrapAllDataKeys(orm: Orm, vault: CredentialVault, options: { batchSize?: number; maxPasses?: number } = {}): Promise<RotationReport> {
  const current = vault.keyring.current.id;
  const batchSize = options.batchSize ?? 100;
  const failed: RotationReport['failed'] = [];
  const skip = new Set<string>();
  let rewrapped = 0;
  for (let idle = 0; idle < (options.maxPasses ?? 50); ) {
    const done = await orm.em.fork().transactional(async (tx) => {
      const rows = await tx.find(
        ConnectionSecret,
        { kekId: { $ne: current }, ...(skip.size ? { connectionId: { $nin: [...skip] } } : {}) },
        { orderBy: { connectionId: 'asc' }, limit: batchSize, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      for (const row of rows) {
        try {
          if (vault.rewrap(row)) rewrapped++;
        } catch (error) {
          if (!(error instanceof EnvelopeError)) throw error;
          failed.push({ connectionId: row.connectionId, kekId: row.kekId, reason: error.message });
          skip.add(row.connectionId);
        }
      }
      return rows.length;
    });
    if (done > 0) {
      idle = 0;
      continue;
    }
    const left = await orm.em.fork().count(ConnectionSecret, { kekId: { $ne: current }, ...(skip.size ? { connectionId: { $nin: [...skip] } } : {}) });
    if (left === 0) break;
    // Rows locked by a refresh in flight: wait a moment and try again.
    idle++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const schema = orm.config.get('schema') ?? 'public';
  const counts = await orm.em.fork().getConnection().execute<{ kek_id: string; count: string }[]>(
    `select kek_id, count(*) as count from "${schema}"."connection_secrets" group by kek_id`,
  );
  return { currentKekId: current, rewrapped, failed, remaining: Object.fromEntries(counts.map((row) => [row.kek_id, Number(row.count)])) };
}
