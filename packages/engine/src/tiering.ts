/**
 * Storage tiering: packs of chunks move hot → warm after 30 days and warm → cold after 90, by the
 * age of the pack (a pack is written once, so its age is how long its chunks have been backed up).
 * Manifests stay hot: listing, browsing and pruning read them. On a local directory every tier
 * is the same disk and the pass changes nothing.
 */
import { layout } from './layout.ts';
import type { AccountRepository } from './repository.ts';
import type { StorageTier } from './store.ts';
import { TaskWindow } from './streams.ts';

export interface TieringPolicy {
  warmAfterDays: number;
  coldAfterDays: number;
}

export const DEFAULT_TIERING: Readonly<TieringPolicy> = Object.freeze({ warmAfterDays: 30, coldAfterDays: 90 });

const DAY = 86_400_000;

/** The tier an object of this age belongs in (tiers only move colder). */
export function tierFor(ageMs: number, current: StorageTier, policy: TieringPolicy = DEFAULT_TIERING): StorageTier {
  const wanted: StorageTier = ageMs >= policy.coldAfterDays * DAY ? 'cold' : ageMs >= policy.warmAfterDays * DAY ? 'warm' : 'hot';
  const order: StorageTier[] = ['hot', 'warm', 'cold'];
  return order.indexOf(wanted) > order.indexOf(current) ? wanted : current;
}

export interface TieringResult {
  scanned: number;
  moved: Record<StorageTier, number>;
}

export async function applyTiering(
  account: AccountRepository,
  options: { policy?: TieringPolicy; now?: Date; dryRun?: boolean; signal?: AbortSignal; concurrency?: number } = {},
): Promise<TieringResult> {
  const now = (options.now ?? new Date()).getTime();
  const result: TieringResult = { scanned: 0, moved: { hot: 0, warm: 0, cold: 0 } };
  const window = new TaskWindow(options.concurrency ?? 8);
  try {
    for await (const pack of account.store.list(layout.packs(account.accountId))) {
      options.signal?.throwIfAborted();
      result.scanned++;
      const tier = tierFor(now - pack.lastModified.getTime(), pack.tier, options.policy);
      if (tier === pack.tier) continue;
      result.moved[tier]++;
      if (!options.dryRun) await window.add(() => account.store.setTier(pack.key, tier));
    }
    await window.drain();
  } finally {
    await window.settle();
  }
  return result;
}
