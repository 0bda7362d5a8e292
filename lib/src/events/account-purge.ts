import type { Em } from '../db.ts';

/**
 * Deletes every row of `accountIds` from `tables` of the transaction's schema (each has an
 * `account_id` column): what a subgraph does on `account.purged`. Deleting again deletes nothing,
 * so a redelivered event is harmless.
 */
export async function deleteAccountRows(tx: Em, tables: readonly string[], accountIds: readonly string[]): Promise<void> {
  const schema = tx.config.get('schema');
  const ids = `{${accountIds.join(',')}}`;
  for (const table of tables) {
    await tx.execute(`delete from ${schema ? `"${schema}".` : ''}"${table}" where "account_id" = any(?::uuid[])`, [ids]);
  }
}
