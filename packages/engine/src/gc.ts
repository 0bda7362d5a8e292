/**
 * Retention and garbage collection, per account (chunks are shared by every source of an account,
 * so only the account as a whole can tell that a chunk is unused).
 *
 * Mark: every chunk in the index of a published snapshot, and every chunk in the pages of a backup
 * still in progress. Sweep, by pack (chunks are stored in packs, see repository.ts): a pack older
 * than the grace period whose chunks are all unmarked is deleted (its index first, then the pack);
 * one with some unmarked chunks is repacked when their share of its bytes exceeds
 * `repackUnusedShare` (its marked chunks are copied into new packs, which are made durable with
 * their indexes before the old pack goes), else kept and counted in `partialPacks`. Packs without
 * an index (a crash between writing a pack and its index) are deleted once older than the grace
 * period, which covers what a running backup has written
 * but not yet checkpointed.
 *
 * Run it exclusively per account: a backup that started before the sweep may reuse an old chunk
 * that no snapshot references yet. The jobs layer serializes maintenance with backups of the same
 * account (restic and kopia take the same exclusive lock for prune).
 */
import { EngineConfigError } from './errors.ts';
import { layout, packIdOfKey } from './layout.ts';
import type { AccountRepository } from './repository.ts';
import { type Dated, type PruneDecision, prune, type RetentionPolicy } from './retention.ts';
import { deleteSnapshot, discardManifest, listManifests, listSnapshots, pendingChunks, type SnapshotHeader, snapshotChunks } from './snapshot.ts';
import { TaskWindow } from './streams.ts';

export interface ApplyRetentionOptions {
  sourceId: string;
  dryRun?: boolean;
}

/** Deletes the snapshots of one source that `policy` drops; returns the decision. Run collectGarbage after it. */
export async function applyRetention(account: AccountRepository, policy: RetentionPolicy, options: ApplyRetentionOptions): Promise<PruneDecision<SnapshotHeader & Dated>> {
  const snapshots = await listSnapshots(account, { sourceId: options.sourceId });
  const decision = prune(snapshots, policy);
  if (!options.dryRun) for (const snapshot of decision.drop) await deleteSnapshot(account, snapshot.id);
  return decision;
}

export interface GcOptions {
  now?: Date;
  /** Unreferenced chunks younger than this stay (default 1 hour): a running backup may be about to reference them. */
  graceMs?: number;
  /** A pending backup with no progress for this long is abandoned and its manifest removed (default 7 days). */
  abandonAfterMs?: number;
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Deletes in flight (default 16). */
  concurrency?: number;
  /**
   * A partly used pack is rewritten when more than this share of its bytes is unreferenced
   * (default 0: every unreferenced chunk goes; raise it to trade stored bytes for fewer rewrites).
   */
  repackUnusedShare?: number;
  /** Called as snapshots are marked and packs planned (a snapshot or a pack is one step). */
  onProgress?: (progress: GcProgress) => void;
}

export interface GcProgress {
  stepsDone: number;
  steps: number;
}

export interface GcResult {
  snapshots: number;
  /** Distinct chunks referenced by published snapshots and running backups. */
  referencedChunks: number;
  scannedChunks: number;
  deletedChunks: number;
  deletedBytes: number;
  /** Unreferenced chunks kept because they are younger than the grace period. */
  youngUnreferencedChunks: number;
  /** Pending backups removed as abandoned, and manifests left by an interrupted delete. */
  discardedManifests: string[];
  /** Packs deleted whole (every chunk unreferenced, or no index). */
  deletedPacks: number;
  /** Partly used packs rewritten into new packs (their unreferenced chunks are in deletedChunks). */
  repackedPacks: number;
  /** Partly used packs kept as they are (unreferenced share under repackUnusedShare, or young). */
  partialPacks: number;
}

export async function collectGarbage(account: AccountRepository, options: GcOptions = {}): Promise<GcResult> {
  const now = (options.now ?? new Date()).getTime();
  const graceMs = options.graceMs ?? 60 * 60 * 1000;
  const abandonAfterMs = options.abandonAfterMs ?? 7 * 24 * 60 * 60 * 1000;
  if (graceMs < 0 || abandonAfterMs < 0) throw new EngineConfigError('graceMs and abandonAfterMs must be at least 0');
  const { signal, dryRun = false } = options;
  const repackUnusedShare = options.repackUnusedShare ?? 0;
  if (!(repackUnusedShare >= 0 && repackUnusedShare < 1)) throw new EngineConfigError('repackUnusedShare must be at least 0 and below 1');
  // Chunks appended by this process but not yet stored are stored now, so the sweep sees them.
  await account.flush();

  const marked = new Set<string>();
  const snapshots = await listSnapshots(account);
  const packs = await account.listPacks();
  const progress: GcProgress = { stepsDone: 0, steps: snapshots.length + packs.length };
  const step = () => {
    progress.stepsDone++;
    options.onProgress?.(progress);
  };
  options.onProgress?.(progress);
  for (const header of snapshots) {
    signal?.throwIfAborted();
    for await (const chunk of snapshotChunks(account, header)) marked.add(chunk.address);
    step();
  }

  const discarded: string[] = [];
  for (const manifest of await listManifests(account)) {
    signal?.throwIfAborted();
    if (manifest.published) {
      if (manifest.pending && !dryRun) await discardManifest(account, manifest.snapshotId); // a marker left after publishing
      continue;
    }
    const active = manifest.pending !== null && now - manifest.lastActivity.getTime() < abandonAfterMs;
    if (active) {
      for await (const chunk of pendingChunks(account, manifest)) marked.add(chunk.address);
    } else {
      discarded.push(manifest.snapshotId);
      if (!dryRun) await discardManifest(account, manifest.snapshotId);
    }
  }

  const result: GcResult = {
    snapshots: snapshots.length,
    referencedChunks: marked.size,
    scannedChunks: 0,
    deletedChunks: 0,
    deletedBytes: 0,
    youngUnreferencedChunks: 0,
    discardedManifests: discarded,
    deletedPacks: 0,
    repackedPacks: 0,
    partialPacks: 0,
  };
  const known = new Set(packs.map((pack) => pack.id));
  const deadPacks: string[] = [];
  const repackFrom: string[] = [];
  const keep: string[] = [];
  for (const pack of packs) {
    signal?.throwIfAborted();
    step();
    const live: string[] = [];
    let unusedBytes = 0;
    let unused = 0;
    for (const [address, , length] of await account.packEntries(pack.id)) {
      // An address stored twice (two writers) counts once, in the pack readers are sent to.
      const canonical = (await account.locate(address))?.packId === pack.id;
      if (canonical) result.scannedChunks++;
      if (canonical && marked.has(address)) live.push(address);
      else {
        unusedBytes += length;
        if (canonical) unused++;
      }
    }
    if (unusedBytes === 0) continue;
    if (now - pack.createdAt.getTime() < graceMs) {
      result.youngUnreferencedChunks += unused;
      if (live.length > 0) result.partialPacks++;
      continue;
    }
    if (live.length === 0) {
      deadPacks.push(pack.id);
      result.deletedPacks++;
    } else if (unusedBytes / pack.bytes > repackUnusedShare) {
      repackFrom.push(pack.id);
      keep.push(...live);
      result.repackedPacks++;
    } else {
      result.partialPacks++;
      continue;
    }
    result.deletedChunks += unused;
    result.deletedBytes += unusedBytes;
  }

  const window = new TaskWindow(options.concurrency ?? 16);
  try {
    // Packs without an index: written by a process that died before their index (listed before
    // repacking writes new ones).
    for await (const object of account.store.list(layout.packs(account.accountId))) {
      signal?.throwIfAborted();
      const id = packIdOfKey(object.key);
      if (!id || known.has(id) || now - object.lastModified.getTime() < graceMs) continue;
      // Its index may have been written since the packs were listed.
      if (await account.store.exists(layout.packIndex(account.accountId, id))) continue;
      result.deletedPacks++;
      result.deletedBytes += object.size;
      if (!dryRun) await window.add(() => account.store.delete(object.key));
    }
    // Temporary files of writes a crash cut short (listings do not show them).
    if (!dryRun) await account.store.removeStaleTemporaryFiles?.(graceMs, now, layout.account(account.accountId));
    if (!dryRun && repackFrom.length > 0) await account.repack(repackFrom, keep);
    for (const id of deadPacks) {
      signal?.throwIfAborted();
      if (!dryRun) await window.add(() => account.deletePack(id));
    }
    await window.drain();
  } finally {
    await window.settle();
  }
  return result;
}
