import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';

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
