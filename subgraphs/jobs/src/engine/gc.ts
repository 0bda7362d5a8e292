/**
 * Retention and garbage collection, per account (chunks are shared by every source of an account,
 * so only the account as a whole can tell that a chunk is unused).
 *
 * Mark: every chunk in the index of a published snapshot, and every chunk in the pages of a backup
 * still in progress. Sweep: every stored chunk not marked and older than the grace period, which
 * covers chunks a running backup has written but not yet checkpointed.
 *
 * Run it exclusively per account: a backup that started before the sweep may reuse an old chunk
 * that no snapshot references yet. The jobs layer serializes maintenance with backups of the same
 * account (restic and kopia take the same exclusive lock for prune).
 */
import { EngineConfigError } from './errors.ts';
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
}

export async function collectGarbage(account: AccountRepository, options: GcOptions = {}): Promise<GcResult> {
  const now = (options.now ?? new Date()).getTime();
  const graceMs = options.graceMs ?? 60 * 60 * 1000;
  const abandonAfterMs = options.abandonAfterMs ?? 7 * 24 * 60 * 60 * 1000;
  if (graceMs < 0 || abandonAfterMs < 0) throw new EngineConfigError('graceMs and abandonAfterMs must be at least 0');
  const { signal, dryRun = false } = options;

  const marked = new Set<string>();
  const snapshots = await listSnapshots(account);
  for (const header of snapshots) {
    signal?.throwIfAborted();
    for await (const chunk of snapshotChunks(account, header)) marked.add(chunk.address);
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
  };
  const window = new TaskWindow(options.concurrency ?? 16);
  try {
    for await (const chunk of account.listChunks()) {
      signal?.throwIfAborted();
      result.scannedChunks++;
      if (marked.has(chunk.address)) continue;
      if (now - chunk.lastModified.getTime() < graceMs) {
        result.youngUnreferencedChunks++;
        continue;
      }
      result.deletedChunks++;
      result.deletedBytes += chunk.size;
      if (!dryRun) await window.add(() => account.deleteChunk(chunk.address));
    }
    await window.drain();
  } finally {
    await window.settle();
  }
  return result;
}
