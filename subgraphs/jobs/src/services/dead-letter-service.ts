import { systemActor } from '@listbackup/lib/events/contract';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Orm } from '@listbackup/lib/db';
import { Job } from '../entities/job.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { requeueJob } from './job-service.ts';

export interface DeadLetter {
  jobId: string;
  reason: string | null;
  sourceQueue: string | null;
  deadLetteredAt: Date;
}

/** Jobs parked in the dead-letter queue (they failed after their retries, or on an internal error), oldest first. */
export async function listDeadLetters(queue: JobQueue, limit = 1000): Promise<DeadLetter[]> {
  const messages = await queue.deadLettered(limit);
  return messages.map((message) => ({
    jobId: message.data.jobId,
    reason: message.data.reason ?? null,
    sourceQueue: message.data.sourceQueue ?? null,
    deadLetteredAt: message.createdOn,
  }));
}

export interface RedriveResult {
  jobId: string;
  outcome: 'requeued' | 'skipped';
  reason?: string;
}

/**
 * An operator's redrive: each dead-lettered job (or only `jobIds`) goes back to the queue as the
 * same job with a fresh retry budget, resuming from its checkpoint; its dead letter is removed in
 * the same transaction. A job that is no longer FAILED (a member retried it) just loses its letter.
 */
export async function redriveDeadLetters(orm: Orm, queue: JobQueue, options: { jobIds?: string[]; limit?: number } = {}): Promise<RedriveResult[]> {
  const letters = await listDeadLetters(queue, options.limit ?? 1000);
  const wanted = options.jobIds ? new Set(options.jobIds) : null;
  const jobIds = [...new Set(letters.map((letter) => letter.jobId))].filter((id) => !wanted || wanted.has(id));
  const results: RedriveResult[] = [];
  for (const jobId of jobIds) {
    try {
      results.push(
        await orm.em.fork().transactional(async (tx): Promise<RedriveResult> => {
          const job = await tx.findOne(Job, { id: jobId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
          if (job?.status !== 'FAILED') {
            await queue.clearDeadLetters(tx, jobId);
            return { jobId, outcome: 'skipped', reason: job ? `the job is ${job.status}` : 'the job no longer exists' };
          }
          await requeueJob(tx, queue, job, 'Redriven from the dead-letter queue by an operator', systemActor('operator'));
          return { jobId, outcome: 'requeued' };
        }),
      );
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      results.push({ jobId, outcome: 'skipped', reason: 'another backup of its source is queued or running' });
    }
  }
  return results;
}
