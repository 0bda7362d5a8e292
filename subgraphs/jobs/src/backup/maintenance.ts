import { createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { type AccountRepository, applyTiering, collectGarbage, deleteSnapshot, layout, purgeAccountData, type Repository, verify } from '@listbackup/engine';
import type { GcJobParams } from '../services/maintenance.ts';
import { JobFailure } from '../worker/errors.ts';
import type { WorkerDeps } from '../worker/index.ts';
import type { JobContext, JobOutcome } from '../worker/registry.ts';
import { deleteExpiredDownloads } from './downloads.ts';
import type { SnapshotJobParams } from './handlers.ts';
import type { BackupSettings } from './settings.ts';

/** What a finished GC job reports (Job.garbageCollection). */
export interface GcReport {
  forgottenSnapshots: number;
  snapshots: number;
  deletedBytes: number;
  deletedChunks: number;
  deletedPacks: number;
  repackedPacks: number;
  expiredExports: number;
  purged: boolean;
}

/**
 * A GC job, run holding the account's lock exclusively (see account-lock.ts): forgets the snapshots
 * the catalogue deleted, then frees what no remaining snapshot uses (the engine's collectGarbage,
 * see the engine README), and removes expired exports. For a purged account, deletes everything it
 * stored instead. Every step is safe to run again, so a retried or killed run just runs again.
 */
export async function runGc(ctx: JobContext, deps: WorkerDeps, settings: BackupSettings, repository: Repository): Promise<JobOutcome> {
  const { job, signal } = ctx;
  const params = job.params as GcJobParams;
  const report: GcReport = { forgottenSnapshots: 0, snapshots: 0, deletedBytes: 0, deletedChunks: 0, deletedPacks: 0, repackedPacks: 0, expiredExports: 0, purged: false };
  if (params.purge) {
    const purged = await purgeAccountData(repository.store, job.accountId, { signal });
    repository.forget(job.accountId);
    ctx.progress({ itemsDone: purged.deletedObjects, itemsTotal: purged.deletedObjects, bytesDone: purged.deletedBytes });
    ctx.log(`The account was purged: deleted all ${purged.deletedObjects} object(s) it stored (${purged.deletedBytes} bytes)`);
    return { result: { garbageCollection: { ...report, purged: true, deletedBytes: purged.deletedBytes } } };
  }
  if (!(await repository.store.exists(layout.config(job.accountId)))) {
    // Opening the account would create its repository: there is nothing stored to collect.
    ctx.log('The account has no stored data');
    return { result: { garbageCollection: report } };
  }
  const account = await repository.account(job.accountId);
  for (const snapshotId of params.forget ?? []) {
    signal.throwIfAborted();
    if (await account.store.exists(layout.snapshot(job.accountId, snapshotId))) report.forgottenSnapshots++;
    await deleteSnapshot(account, snapshotId);
  }
  if (params.forget?.length) ctx.log(`Forgot ${report.forgottenSnapshots} deleted snapshot(s)`);
  const gc = await collectGarbage(account, {
    signal,
    graceMs: settings.gcGraceMs,
    onProgress: (p) => ctx.progress({ itemsDone: p.stepsDone, itemsTotal: p.steps }),
  });
  Object.assign(report, { snapshots: gc.snapshots, deletedBytes: gc.deletedBytes, deletedChunks: gc.deletedChunks, deletedPacks: gc.deletedPacks, repackedPacks: gc.repackedPacks });
  ctx.progress({ bytesDone: gc.deletedBytes });
  if (gc.deletedBytes > 0) {
    // Billing meters what the store really holds: freed bytes leave the account's stored total.
    const em = deps.orm.em.fork();
    enqueueEvent(em, createEvent('data.garbage_collected', job.accountId, job.id, { accountId: job.accountId, jobId: job.id, deletedBytes: gc.deletedBytes, deletedChunks: gc.deletedChunks }));
    await em.flush();
  }
  report.expiredExports = await deleteExpiredDownloads(account, deps.orm);
  ctx.log(
    `${gc.snapshots} snapshot(s) kept; freed ${gc.deletedBytes} bytes: ${gc.deletedChunks} unreferenced chunk(s), ${gc.deletedPacks} pack(s) deleted, ${gc.repackedPacks} rewritten` +
      (gc.youngUnreferencedChunks ? `; ${gc.youngUnreferencedChunks} chunk(s) stored too recently to free wait for a later run` : '') +
      (report.expiredExports ? `; ${report.expiredExports} expired export(s) removed` : ''),
  );
  return { result: { garbageCollection: report } };
}

/** What a finished TIER job reports (Job.tiering). */
export interface TieringReport {
  scannedPacks: number;
  movedToWarm: number;
  movedToCold: number;
}

/** A TIER job: moves the account's packs to colder storage classes by age (the engine's applyTiering). */
export async function runTier(ctx: JobContext, account: AccountRepository, settings: BackupSettings): Promise<JobOutcome> {
  const result = await applyTiering(account, { signal: ctx.signal, now: settings.now?.() });
  const tiering: TieringReport = { scannedPacks: result.scanned, movedToWarm: result.moved.warm, movedToCold: result.moved.cold };
  ctx.progress({ itemsDone: result.scanned, itemsTotal: result.scanned });
  ctx.log(`Tiering: ${tiering.scannedPacks} pack(s) scanned, ${tiering.movedToWarm} moved to warm storage, ${tiering.movedToCold} to cold`);
  return { result: { tiering } };
}

/**
 * A VERIFY job: a snapshot's chunks, or (without a snapshot: the weekly check of the account) a
 * share of the packs of all its snapshots, re-read and checked. Anything missing or corrupt fails
 * the job as DAMAGED, its report (`verification`) naming the chunks and their packs.
 */
export async function runVerify(ctx: JobContext, account: AccountRepository): Promise<JobOutcome> {
  const params = ctx.job.params as unknown as SnapshotJobParams;
  const report = await verify(account, {
    snapshotIds: params.engineSnapshotId ? [params.engineSnapshotId] : undefined,
    share: params.sample ?? 1,
    by: params.sampleBy === 'PACKS' ? 'pack' : 'chunk',
    signal: ctx.signal,
    onProgress: (p) => ctx.progress({ itemsDone: p.checkedChunks, itemsTotal: p.totalChunks, bytesDone: p.checkedBytes }),
  });
  for (const problem of report.problems) ctx.log(`Chunk ${problem.address}${problem.packId ? ` in pack ${problem.packId}` : ''} is ${problem.problem}: ${problem.detail}`, 'ERROR');
  for (const problem of report.manifestProblems) ctx.log(`The manifest of snapshot ${problem.snapshotId} could not be read`, 'ERROR');
  const verification = {
    ok: report.ok,
    share: report.share,
    sampledBy: report.by === 'pack' ? 'PACKS' : 'CHUNKS',
    referencedChunks: report.referencedChunks,
    checkedChunks: report.checkedChunks,
    checkedBytes: report.checkedBytes,
    referencedPacks: report.referencedPacks,
    checkedPacks: report.checkedPacks,
    problems: report.problems.map((p) => ({ address: p.address, problem: p.problem.toUpperCase(), packId: p.packId })),
    manifestProblems: report.manifestProblems.length,
  };
  const checked = `${report.checkedChunks} of ${report.referencedChunks} chunks in ${report.checkedPacks} of ${report.referencedPacks} packs`;
  if (report.ok) {
    ctx.log(`Verified ${checked} (${report.snapshots.length} snapshot(s)): all intact`);
    return { result: { verification } };
  }
  const count = (problem: 'missing' | 'corrupt') => report.problems.filter((p) => p.problem === problem).length;
  const packs = [...new Set(report.problems.flatMap((p) => (p.packId ? [p.packId] : [])))];
  const snapshots = new Set(report.problems.flatMap((p) => p.snapshots).concat(report.manifestProblems.map((p) => p.snapshotId)));
  const reason =
    `Stored data is damaged: of ${checked} checked, ${count('corrupt')} corrupt and ${count('missing')} missing` +
    (packs.length ? ` (pack${packs.length > 1 ? 's' : ''} ${packs.slice(0, 3).join(', ')}${packs.length > 3 ? ` and ${packs.length - 3} more` : ''})` : '') +
    (report.manifestProblems.length ? `, ${report.manifestProblems.length} manifest(s) unreadable` : '') +
    `; ${snapshots.size} snapshot(s) affected`;
  throw new JobFailure('DAMAGED', reason, { result: { verification } });
}
