import { AppError } from '@listbackup/lib/errors';
import { InternalCallError, internalClient, systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import type { Page } from '@listbackup/lib/pagination';
import type { Snapshot } from '../entities/snapshot.ts';
import type { ItemsPageRequest, ItemsReader, SnapshotItemRecord } from '../services/items-reader.ts';

export interface ScheduledBackup {
  accountId: string;
  sourceId: string;
  /** One job per key, however often the request is repeated. */
  idempotencyKey: string;
}

/** Asks the jobs subgraph (its internal enqueue route) to queue work for this service: scheduled and webhook backups. */
export class JobsClient {
  readonly #jobs: ServiceClient;

  /** `jobsUrl`: any URL of the jobs subgraph (its origin is used). */
  constructor(jobsUrl: string, internalTokenSecret: string) {
    this.#jobs = internalClient(internalTokenSecret).service('jobs', jobsUrl);
  }

  async enqueueScheduledBackup(backup: ScheduledBackup): Promise<{ jobId: string; created: boolean }> {
    // One job per idempotency key, however often it is sent: safe to retry.
    const body = await this.#jobs.json<{ job: { id: string }; created: boolean }>({
      path: '/internal/jobs/enqueue',
      caller: systemCaller(`scheduler:${backup.idempotencyKey}`),
      json: { accountId: backup.accountId, sourceId: backup.sourceId, kind: 'BACKUP', trigger: { kind: 'SCHEDULE' }, idempotencyKey: backup.idempotencyKey },
      idempotent: true,
    });
    return { jobId: body.job.id, created: body.created };
  }

  /**
   * An incremental backup a platform's webhook asked for, starting after `delayMs`. While it waits,
   * jobs answers every further request for the source with it (`created: false`): safe to retry.
   */
  async enqueueWebhookBackup(backup: WebhookBackup): Promise<{ jobId: string; created: boolean }> {
    const body = await this.#jobs.json<{ job: { id: string }; created: boolean }>({
      path: '/internal/jobs/enqueue',
      caller: systemCaller(backup.requestId),
      json: { accountId: backup.accountId, sourceId: backup.sourceId, kind: 'BACKUP', trigger: { kind: 'WEBHOOK' }, delayMs: backup.delayMs },
      idempotent: true,
    });
    return { jobId: body.job.id, created: body.created };
  }
}

export interface WebhookBackup {
  accountId: string;
  sourceId: string;
  delayMs: number;
  /** Names the delivery in the jobs service's logs. */
  requestId: string;
}

/**
 * `Snapshot.items` from the jobs subgraph, which holds the backup store and its keys (its internal
 * snapshot-items route). The caller was authorized on the catalogue row; the row's own account and
 * manifest key are what is sent.
 */
export class JobsItemsReader implements ItemsReader {
  readonly #jobs: ServiceClient;

  constructor(jobsUrl: string, internalTokenSecret: string) {
    this.#jobs = internalClient(internalTokenSecret).service('jobs', jobsUrl);
  }

  async list(snapshot: Snapshot, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>> {
    try {
      return await this.#jobs.json<Page<SnapshotItemRecord>>({
        path: '/internal/snapshots/items',
        caller: systemCaller(`items:${snapshot.id}`),
        json: { accountId: snapshot.accountId, manifestKey: snapshot.manifestKey, first: request.first, after: request.after, search: request.search },
        timeoutMs: 30_000,
        idempotent: true,
      });
    } catch (error) {
      if (error instanceof InternalCallError && error.status === 404) throw new AppError('ITEMS_UNAVAILABLE', 'The items of this snapshot cannot be read');
      throw error;
    }
  }
}
