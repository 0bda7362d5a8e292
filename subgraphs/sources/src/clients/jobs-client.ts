import { AppError } from '@listbackup/lib/errors';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Page } from '@listbackup/lib/pagination';
import type { Snapshot } from '../entities/snapshot.ts';
import type { ItemsPageRequest, ItemsReader, SnapshotItemRecord } from '../services/items-reader.ts';

export interface ScheduledBackup {
  accountId: string;
  sourceId: string;
  /** One job per key, however often the request is repeated. */
  idempotencyKey: string;
}

/** Asks the jobs subgraph (its internal enqueue route) to queue work for this service. */
export class JobsClient {
  readonly #base: string;
  readonly #secret: string;

  /** `jobsUrl`: any URL of the jobs subgraph (its origin is used). */
  constructor(jobsUrl: string, secret: string) {
    this.#base = jobsUrl;
    this.#secret = secret;
  }

  async enqueueScheduledBackup(backup: ScheduledBackup): Promise<{ jobId: string; created: boolean }> {
    const token = await signInternalToken(this.#secret, 'jobs', { principal: { kind: 'anonymous' }, requestId: `scheduler:${backup.idempotencyKey}` });
    const response = await fetch(new URL('/internal/jobs/enqueue', this.#base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: JSON.stringify({ accountId: backup.accountId, sourceId: backup.sourceId, kind: 'BACKUP', trigger: { kind: 'SCHEDULE' }, idempotencyKey: backup.idempotencyKey }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`jobs enqueue answered HTTP ${response.status}`);
    const body = (await response.json()) as { job: { id: string }; created: boolean };
    return { jobId: body.job.id, created: body.created };
  }
}

/**
 * `Snapshot.items` from the jobs subgraph, which holds the backup store and its keys (its internal
 * snapshot-items route). The caller was authorized on the catalogue row; the row's own account and
 * manifest key are what is sent.
 */
export class JobsItemsReader implements ItemsReader {
  readonly #base: string;
  readonly #secret: string;

  constructor(jobsUrl: string, secret: string) {
    this.#base = jobsUrl;
    this.#secret = secret;
  }

  async list(snapshot: Snapshot, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>> {
    const token = await signInternalToken(this.#secret, 'jobs', { principal: { kind: 'anonymous' }, requestId: `items:${snapshot.id}` });
    const response = await fetch(new URL('/internal/snapshots/items', this.#base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: JSON.stringify({ accountId: snapshot.accountId, manifestKey: snapshot.manifestKey, first: request.first, after: request.after, search: request.search }),
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status === 404) throw new AppError('ITEMS_UNAVAILABLE', 'The items of this snapshot cannot be read');
    if (!response.ok) throw new Error(`jobs snapshot items answered HTTP ${response.status}`);
    return (await response.json()) as Page<SnapshotItemRecord>;
  }
}
