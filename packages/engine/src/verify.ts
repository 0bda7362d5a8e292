/**
 * Verification: re-read chunks from the store and check each one end to end (it exists, it
 * authenticates under the account and its address, it decompresses to its recorded size, and it
 * hashes back to its address). All chunks, or a random share of them for a cheap periodic check:
 * a share of the chunks, or (like restic's `check --read-data-subset`) a share of the packs, every
 * referenced chunk of each sampled pack read front to back. Problems are reported by chunk address,
 * with the pack it is in and the snapshots each bad chunk breaks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ChunkIntegrityError, EngineConfigError } from './errors.ts';
import { ChunkReader } from './reader.ts';
import type { AccountRepository, ChunkRef } from './repository.ts';
import { listSnapshots, readSnapshot, type SnapshotHeader, snapshotChunks, snapshotItems } from './snapshot.ts';

export interface VerifyOptions {
  /** Snapshots to verify (default: every published snapshot of the account). */
  snapshotIds?: string[];
  /** Share to check, 0 < share ≤ 1 (default 1: all). */
  share?: number;
  /**
   * What the share is of: chunks (default: each in with that chance) or packs (that share of them,
   * rounded, at least one). A chunk the index does not know is reported whatever the sample.
   */
  by?: 'chunk' | 'pack';
  /** Seed of the sample; a random one by default, so successive partial runs cover different chunks. */
  seed?: string;
  /** Also read every manifest page (default true). */
  checkManifests?: boolean;
  /** Ranged reads in flight at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { checkedChunks: number; totalChunks: number; checkedBytes: number }) => void;
}

export interface ChunkProblemReport {
  address: string;
  problem: 'missing' | 'corrupt';
  detail: string;
  /** The pack the index places it in (null when the index does not know the chunk). */
  packId: string | null;
  /** Snapshots that reference the chunk. */
  snapshots: string[];
}

export interface VerifyReport {
  snapshots: string[];
  /** Distinct chunks referenced by the verified snapshots. */
  referencedChunks: number;
  checkedChunks: number;
  checkedBytes: number;
  /** Distinct packs holding the referenced chunks, and how many of them the check read from. */
  referencedPacks: number;
  checkedPacks: number;
  share: number;
  by: 'chunk' | 'pack';
  seed: string;
  problems: ChunkProblemReport[];
  /** Manifest pages or indexes that could not be read. */
  manifestProblems: { snapshotId: string; detail: string }[];
  ok: boolean;
}

/** Deterministic sample: a chunk is in when the hash of seed and its address falls under the share. */
function inSample(seed: string, address: string, share: number): boolean {
  if (share >= 1) return true;
  const digest = createHash('sha256').update(seed).update(address).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000 < share;
}

export async function verify(account: AccountRepository, options: VerifyOptions = {}): Promise<VerifyReport> {
  const share = options.share ?? 1;
  if (!(share > 0 && share <= 1)) throw new EngineConfigError('verify share must be greater than 0 and at most 1');
  const seed = options.seed ?? randomBytes(8).toString('hex');
  const { signal } = options;

  const headers: SnapshotHeader[] = options.snapshotIds
    ? await Promise.all(options.snapshotIds.map((id) => readSnapshot(account, id)))
    : await listSnapshots(account);

  const chunks = new Map<string, { size: number; snapshots: string[] }>();
  const manifestProblems: VerifyReport['manifestProblems'] = [];
  for (const header of headers) {
    signal?.throwIfAborted();
    try {
      for await (const chunk of snapshotChunks(account, header)) {
        const known = chunks.get(chunk.address);
        if (known) known.snapshots.push(header.id);
        else chunks.set(chunk.address, { size: chunk.size, snapshots: [header.id] });
      }
      if (options.checkManifests ?? true) for await (const _ of snapshotItems(account, header));
    } catch (error) {
      manifestProblems.push({ snapshotId: header.id, detail: error instanceof Error ? error.message : String(error) });
    }
  }

  const by = options.by ?? 'chunk';
  const report: VerifyReport = {
    snapshots: headers.map((h) => h.id),
    referencedChunks: chunks.size,
    checkedChunks: 0,
    checkedBytes: 0,
    referencedPacks: 0,
    checkedPacks: 0,
    share,
    by,
    problems: [],
    manifestProblems,
    ok: true,
    seed,
  };
  const problem = (ref: ChunkRef, packId: string | null, error: ChunkIntegrityError) => {
    report.problems.push({ address: ref.address, problem: error.problem, detail: error.message, packId, snapshots: chunks.get(ref.address)!.snapshots });
  };
  // In pack order, so each pack is read once, front to back.
  const located: { ref: ChunkRef; packId: string; offset: number }[] = [];
  const packs = new Set<string>();
  for (const [address, { size }] of chunks) {
    signal?.throwIfAborted();
    const ref = { address, size };
    const location = await account.locate(address);
    if (!location) {
      problem(ref, null, new ChunkIntegrityError(address, 'missing', 'not in the store'));
      report.checkedChunks++;
      continue;
    }
    packs.add(location.packId);
    if (by === 'chunk' && !inSample(seed, address, share)) continue;
    located.push({ ref, packId: location.packId, offset: location.offset });
  }
  report.referencedPacks = packs.size;
  if (by === 'pack') {
    // As restic picks packs: the share of them rounded, at least one, here the ones the seed ranks first.
    const rank = (packId: string) => createHash('sha256').update(seed).update(packId).digest('hex');
    const chosen = new Set([...packs].sort((a, b) => (rank(a) < rank(b) ? -1 : 1)).slice(0, Math.max(1, Math.round(packs.size * share))));
    located.splice(0, located.length, ...located.filter((l) => chosen.has(l.packId)));
  }
  report.checkedPacks = new Set(located.map((l) => l.packId)).size;
  const sampled = located.length + report.checkedChunks;
  located.sort((a, b) => (a.packId < b.packId ? -1 : a.packId > b.packId ? 1 : a.offset - b.offset));
  const reader = new ChunkReader(account, { signal, parallelReads: options.concurrency, freeConsumed: true });
  let next = 0;
  for await (const { item, chunks: content } of reader.items(located.map(({ ref }) => ({ chunks: [ref] })))) {
    const ref = item.chunks[0];
    const { packId } = located[next++];
    try {
      for await (const _ of content);
      report.checkedBytes += ref.size;
    } catch (error) {
      if (!(error instanceof ChunkIntegrityError)) throw error;
      problem(ref, packId, error);
    }
    report.checkedChunks++;
    options.onProgress?.({ checkedChunks: report.checkedChunks, totalChunks: sampled, checkedBytes: report.checkedBytes });
  }
  report.problems.sort((a, b) => (a.address < b.address ? -1 : 1));
  report.ok = report.problems.length === 0 && manifestProblems.length === 0;
  return report;
}
