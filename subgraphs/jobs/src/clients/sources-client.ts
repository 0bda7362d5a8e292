import { internalClient, systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import type { AnomalyKind } from '../services/anomaly.ts';
import type { SnapshotChanges } from '../services/job-state.ts';

/** A source as the sources subgraph describes it to sibling services (its internal route). */
export interface SourceInfo {
  id: string;
  accountId: string;
  connectionId: string;
  name: string;
  resources: string[];
  paused: boolean;
  deleted: boolean;
  retention: { keepLast: number; keepDaily: number; keepWeekly: number; keepMonthly: number };
  schedule?: { kind: string; cron: string | null; timeZone: string | null };
}

/** What a finished backup tells the catalogue. */
export interface RecordSnapshotInput {
  jobId: string;
  sourceId: string;
  accountId: string;
  itemCount: number;
  logicalBytes: number;
  /** Bytes this snapshot added to storage after deduplication. */
  storedBytes: number;
  partial?: boolean;
  manifestKey: string;
  createdAt?: string;
  changes?: SnapshotChanges | null;
  /** Set when the backup moved far beyond the source's history: the catalogue flags the snapshot and tells the account. */
  anomaly?: { kind: AnomalyKind; reason: string; share: number; typicalShare: number } | null;
}

export interface SnapshotInfo {
  id: string;
  jobId: string;
  createdAt: string;
  manifestKey: string;
  /** Flagged as an anomaly and not acknowledged yet: retention must keep it. */
  held?: boolean;
}

/**
 * Calls the sources subgraph's internal routes with an internal token for audience `sources`. These
 * routes trust the token (only our services hold the secret); the caller authorizes its own users.
 */
export class SourcesClient {
  readonly #sources: ServiceClient;

  constructor(sourcesUrl: string, internalTokenSecret: string) {
    this.#sources = internalClient(internalTokenSecret).service('sources', sourcesUrl);
  }

  async getSource(id: string, requestId = 'jobs'): Promise<SourceInfo | null> {
    const body = await this.#post('/internal/sources/get', { id }, requestId);
    return (body.source as SourceInfo | null) ?? null;
  }

  /** Idempotent per job: recording twice returns the same snapshot. */
  async recordSnapshot(input: RecordSnapshotInput, requestId = 'jobs'): Promise<{ id: string }> {
    const body = await this.#post('/internal/snapshots', input, requestId);
    return body.snapshot as { id: string };
  }

  /** A source's snapshots, newest first (for retention). */
  async listSnapshots(sourceId: string, requestId = 'jobs'): Promise<SnapshotInfo[]> {
    const body = await this.#post('/internal/snapshots/list', { sourceId }, requestId);
    return body.snapshots as SnapshotInfo[];
  }

  /** Removes snapshots from the catalogue once their manifests are pruned. */
  async deleteSnapshots(sourceId: string, ids: string[], requestId = 'jobs'): Promise<number> {
    const body = await this.#post('/internal/snapshots/delete', { sourceId, ids }, requestId);
    return body.deleted as number;
  }

  /** Every route here is safe to repeat (recording a snapshot is idempotent per job), so all are retried. */
  #post(path: string, payload: unknown, requestId: string): Promise<Record<string, unknown>> {
    return this.#sources.json({ path, json: payload, caller: systemCaller(requestId), idempotent: true });
  }
}
