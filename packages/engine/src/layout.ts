/**
 * Where everything lives in an ObjectStore. One prefix per account, so listing, tiering and
 * deleting an account never touch another tenant's objects.
 *
 *   <account>/config                          sealed repository config (also proves the data key)
 *   <account>/keys/data-key                   wrapped data key (StoreKeyProvider)
 *   <account>/packs/<pp>/<pack>               pack: sealed chunks back to back, written once (fanned out by id)
 *   <account>/pack-index/<pack>               sealed index of one pack: address → offset, length (written after the pack)
 *   <account>/snapshots/<snapshot>            sealed snapshot header: its presence publishes the snapshot
 *   <account>/manifests/<snapshot>/pending    a backup in progress (removed once published)
 *   <account>/manifests/<snapshot>/page-N     sealed pages of items (also the resume checkpoints)
 *   <account>/manifests/<snapshot>/index-N    sealed, sorted list of the chunk addresses the snapshot uses
 */
import { EngineConfigError } from './errors.ts';

const ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const ADDRESS = /^[0-9a-f]{64}$/;

export function assertId(kind: string, id: string): void {
  if (!ID.test(id)) throw new EngineConfigError(`${kind} id "${id}" must be 1-128 characters of A-Z a-z 0-9 . _ -`);
}

export function assertAddress(address: string): void {
  if (!ADDRESS.test(address)) throw new EngineConfigError(`"${address}" is not a chunk address`);
}

export const layout = {
  account: (accountId: string) => `${accountId}/`,
  config: (accountId: string) => `${accountId}/config`,
  dataKey: (accountId: string) => `${accountId}/keys/data-key`,
  packs: (accountId: string) => `${accountId}/packs/`,
  pack: (accountId: string, packId: string) => `${accountId}/packs/${packId.slice(0, 2)}/${packId}`,
  packIndexes: (accountId: string) => `${accountId}/pack-index/`,
  packIndex: (accountId: string, packId: string) => `${accountId}/pack-index/${packId}`,
  snapshots: (accountId: string) => `${accountId}/snapshots/`,
  snapshot: (accountId: string, snapshotId: string) => `${accountId}/snapshots/${snapshotId}`,
  manifests: (accountId: string) => `${accountId}/manifests/`,
  manifest: (accountId: string, snapshotId: string) => `${accountId}/manifests/${snapshotId}/`,
  pending: (accountId: string, snapshotId: string) => `${accountId}/manifests/${snapshotId}/pending`,
  page: (accountId: string, snapshotId: string, seq: number) => `${accountId}/manifests/${snapshotId}/page-${String(seq).padStart(6, '0')}`,
  index: (accountId: string, snapshotId: string, seq: number) => `${accountId}/manifests/${snapshotId}/index-${String(seq).padStart(6, '0')}`,
};

const PACK_ID = /^[0-9a-f]{32}$/;

/** The pack id in a pack or pack-index key, or null for any other key. */
export function packIdOfKey(key: string): string | null {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return PACK_ID.test(name) ? name : null;
}
