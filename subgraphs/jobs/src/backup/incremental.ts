/**
 * Incremental backups. A resource whose connector keeps a cursor is read in full once; the next
 * backups give the connector its cursor, so it fetches only what changed (each changed item whole),
 * and the items it did not fetch are carried over from the parent snapshot unchanged. A full run
 * every `fullRunEveryMs` (a week by default) drops what was deleted at the platform, as does any run
 * after which the cursor is missing: the first, one after the resource was added to the source, or
 * one after a run that left items of the resource out.
 *
 * The cursors live in the published snapshot's header (`state`), so a cursor is never ahead of the
 * data it summarizes: a backup that fails publishes nothing, and the next one starts from the same
 * parent and the same cursor.
 */
import type { Cursor } from '@listbackup/catalogue/sdk';
import type { RejectedItem, SnapshotHeader } from '@listbackup/engine';

export const DEFAULT_FULL_RUN_EVERY_MS = 7 * 24 * 60 * 60_000;

// Types, not interfaces: the state is stored as JSON, and only type aliases are assignable to it.
type ResourceState = {
  cursor: Cursor;
  /** When the resource was last read in full, ISO-8601. */
  fullRunAt: string;
};

/** What a BACKUP leaves in its snapshot's header for the next one. */
export type BackupState = {
  version: 1;
  resources: Record<string, ResourceState>;
};

export type ResourcePlan = { full: true; reason: string } | { full: false; cursor: Cursor; fullRunAt: string };

/** The state a parent snapshot left, or an empty one (older snapshots, or an unreadable state). */
export function readBackupState(parent: SnapshotHeader | null): BackupState {
  const state = parent?.state as Partial<BackupState> | undefined;
  const resources: Record<string, ResourceState> = {};
  if (state?.version === 1 && state.resources && typeof state.resources === 'object') {
    for (const [name, value] of Object.entries(state.resources)) {
      if (value && typeof value === 'object' && 'cursor' in value && typeof value.fullRunAt === 'string' && !Number.isNaN(Date.parse(value.fullRunAt))) {
        resources[name] = { cursor: value.cursor, fullRunAt: value.fullRunAt };
      }
    }
  }
  return { version: 1, resources };
}

/** Whether to read `resource` in full or from its cursor. */
export function planResource(previous: BackupState, resource: string, incremental: boolean, now: Date, fullRunEveryMs: number): ResourcePlan {
  if (!incremental) return { full: true, reason: 'the platform offers no incremental reads of it' };
  const state = previous.resources[resource];
  if (!state) return { full: true, reason: 'no earlier complete backup of it' };
  if (now.getTime() - Date.parse(state.fullRunAt) >= fullRunEveryMs) return { full: true, reason: 'the periodic full run, which drops what was deleted at the platform' };
  return { full: false, cursor: state.cursor, fullRunAt: state.fullRunAt };
}

/** Records a resource's cursor after a run of it completed. */
export function recordResource(next: BackupState, resource: string, plan: ResourcePlan, cursor: Cursor | undefined, now: Date): void {
  if (cursor === undefined) return;
  next.resources[resource] = { cursor, fullRunAt: plan.full ? now.toISOString() : plan.fullRunAt };
}

/** The state to publish: resources with a rejected item lose their cursor, so the next run reads them in full. */
export function publishedState(next: BackupState, rejected: readonly RejectedItem[]): BackupState {
  const resources = { ...next.resources };
  for (const item of rejected) delete resources[item.id.slice(0, item.id.indexOf(':'))];
  return { version: 1, resources };
}
