import type { SnapshotChanges } from './job-state.ts';

/** What a source's backups usually change: exponentially weighted mean and variance of each share (source_stats). */
export interface ChangeHistory {
  changeObservations: number;
  deletedShareMean: number;
  deletedShareVariance: number;
  changedShareMean: number;
  changedShareVariance: number;
}

/** The history as source_stats keeps it (doubles may come back as strings). */
export function changeHistory(stats: { changeObservations: number } & Record<'deletedShareMean' | 'deletedShareVariance' | 'changedShareMean' | 'changedShareVariance', number | string>): ChangeHistory {
  return {
    changeObservations: stats.changeObservations,
    deletedShareMean: Number(stats.deletedShareMean),
    deletedShareVariance: Number(stats.deletedShareVariance),
    changedShareMean: Number(stats.changedShareMean),
    changedShareVariance: Number(stats.changedShareVariance),
  };
}

export type AnomalyKind = 'MASS_DELETION' | 'MASS_CHANGE';

export interface Anomaly {
  kind: AnomalyKind;
  /** The share of the parent's items this backup deleted (or changed). */
  share: number;
  /** What the source's history says is a large move for it (mean + 3 standard deviations). */
  typicalShare: number;
  items: number;
  /** A readable explanation, safe to show to the account's members. */
  reason: string;
}

/**
 * When a backup is flagged. A move is anomalous when it touches at least `minItems` items and a
 * share of the parent's items of at least `minShare`, and at least `factor` times what the source's
 * history calls a large move (mean + 3σ of the shares it has seen). So 40% of items deleted where
 * backups move by under 2% is flagged; a source that routinely replaces half its items is not.
 * A source without history is judged against `minShare` alone.
 */
export const ANOMALY_POLICY = { minItems: 10, minShare: 0.25, factor: 3 };

export function detectAnomaly(changes: SnapshotChanges | null, history: ChangeHistory | null, policy = ANOMALY_POLICY): Anomaly | null {
  if (!changes || changes.previousItems === 0) return null;
  const candidates: [AnomalyKind, number, number, number][] = [
    ['MASS_DELETION', changes.deleted, history?.deletedShareMean ?? 0, history?.deletedShareVariance ?? 0],
    ['MASS_CHANGE', changes.changed, history?.changedShareMean ?? 0, history?.changedShareVariance ?? 0],
  ];
  for (const [kind, items, mean, variance] of candidates) {
    const share = items / changes.previousItems;
    const typicalShare = history && history.changeObservations > 0 ? mean + 3 * Math.sqrt(Math.max(0, variance)) : 0;
    if (items < policy.minItems || share < policy.minShare || share < policy.factor * typicalShare) continue;
    const verb = kind === 'MASS_DELETION' ? 'deleted' : 'changed';
    const usual = history && history.changeObservations > 0 ? `its backups usually ${verb} up to ${percent(typicalShare)}` : 'it has no history to compare with yet';
    return {
      kind,
      share,
      typicalShare,
      items,
      reason: `This backup found ${items} of ${changes.previousItems} items (${percent(share)}) ${verb} since the previous one; ${usual}.`,
    };
  }
  return null;
}

const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
