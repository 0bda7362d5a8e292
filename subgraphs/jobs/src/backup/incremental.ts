/**
 * Incremental backups, two ways that add up:
 * - Lists: a resource whose connector keeps a cursor is listed in full once; the next backups give
 *   the connector its cursor, so it lists only what changed, and the items it did not list are
 *   carried over from the parent snapshot unchanged.
 * - Contents: an item whose change marker (ETag, revision, checksum, updated_at; the connector's
 *   `changeMarker`) equals the one in the parent snapshot is carried over without reading its
 *   content; the engine checks it.
 *
 * A full run every `fullRunEveryMs` (a week by default) lists everything and reads every item's
 * content again, so it drops what was deleted at the platform and catches a change that a marker
 * failed to show; so does any run after which the resource's state is missing: the first, one
 * after the resource was added to the source, or one after a run that left items of it out.
 *
 * The state lives in the published snapshot's header (`state`), so a cursor is never ahead of the
 * data it summarizes: a backup that fails publishes nothing, and the next one starts from the same
 * parent and the same cursor.
 */
import type { Cursor } from '@listbackup/catalogue/sdk';
import type { RejectedItem, SnapshotHeader } from '@listbackup/engine';
import { resourceOf } from './engine-runtime.ts';

export const DEFAULT_FULL_RUN_EVERY_MS = 7 * 24 * 60 * 60_000;

// Types, not interfaces: the state is stored as JSON, and only type aliases are assignable to it.
type ResourceState = {
  /** The connector's cursor after the last run; absent for resources without incremental lists. */
  cursor?: Cursor;
  /** When the resource was last read in full (every list, every content), ISO-8601. */
  fullRunAt: string;
};

/** What a BACKUP leaves in its snapshot's header for the next one. */
export type BackupState = {
  version: 1;
  resources: Record<string, ResourceState>;
};

/**
 * `full`: list everything and read every item's content. Otherwise unchanged contents are kept by
 * their change marker, and with a `cursor` only what changed since it is listed.
 */
export type ResourcePlan = { full: true; reason: string } | { full: false; cursor?: Cursor; fullRunAt: string };

/** The state a parent snapshot left, or an empty one (older snapshots, or an unreadable state). */
export function readBackupState(parent: SnapshotHeader | null): BackupState {
  const state = parent?.state as Partial<BackupState> | undefined;
  const resources: Record<string, ResourceState> = {};
  if (state?.version === 1 && state.resources && typeof state.resources === 'object') {
    for (const [name, value] of Object.entries(state.resources)) {
      if (value && typeof value === 'object' && typeof value.fullRunAt === 'string' && !Number.isNaN(Date.parse(value.fullRunAt))) {
        resources[name] = 'cursor' in value && value.cursor !== undefined ? { cursor: value.cursor, fullRunAt: value.fullRunAt } : { fullRunAt: value.fullRunAt };
      }
    }
  }
  return { version: 1, resources };
}

/** Whether to read `resource` in full, or what may be skipped. */
export function planResource(previous: BackupState, resource: string, incremental: boolean, now: Date, fullRunEveryMs: number): ResourcePlan {
  const state = previous.resources[resource];
  if (!state) return { full: true, reason: 'no earlier complete backup of it' };
  if (now.getTime() - Date.parse(state.fullRunAt) >= fullRunEveryMs) {
    return { full: true, reason: 'the periodic full run, which reads every item again and drops what was deleted at the platform' };
  }
  return incremental && state.cursor !== undefined ? { full: false, cursor: state.cursor, fullRunAt: state.fullRunAt } : { full: false, fullRunAt: state.fullRunAt };
}

/** Records a resource's state after a run of it completed. */
export function recordResource(next: BackupState, resource: string, plan: ResourcePlan, cursor: Cursor | undefined, now: Date): void {
  const fullRunAt = plan.full ? now.toISOString() : plan.fullRunAt;
  next.resources[resource] = cursor === undefined ? { fullRunAt } : { cursor, fullRunAt };
}

/** The state to publish: resources with a rejected item lose their state, so the next run reads them in full. */
export function publishedState(next: BackupState, rejected: readonly RejectedItem[]): BackupState {
  const resources = { ...next.resources };
  for (const item of rejected) delete resources[resourceOf(item.id)];
  return { version: 1, resources };
}
