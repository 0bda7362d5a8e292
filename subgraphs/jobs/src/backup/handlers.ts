import type { Readable } from 'node:stream';
import { createConnectorRegistry, type ConnectorRegistry } from '@listbackup/catalogue';
import { canRestore, ConnectorError, type Credentials, fetchResource, type RestoreItem, restoreResource } from '@listbackup/catalogue/sdk';
import {
  type AccountRepository,
  type CarriedItem,
  deleteSnapshot,
  exportSnapshot,
  type ExportFormat,
  listSnapshots,
  prune,
  readSnapshot,
  type Repository,
  runBackup,
  type SnapshotHeader,
  type SnapshotItem,
  snapshotItems,
  type SourceItem,
  layout,
} from '@listbackup/engine';
import { type BackupJobParams, enqueueJob } from '../services/job-service.ts';
import { JobFailure } from '../worker/errors.ts';
import type { WorkerDeps } from '../worker/index.ts';
import type { JobContext, JobHandler, JobHandlerRegistry, JobOutcome, ProgressUpdate } from '../worker/registry.ts';
import type { SourceInfo } from '../clients/sources-client.ts';
import type { ConnectionCredentials } from './credentials.ts';
import { type StoredDownload, storeDownload } from './downloads.ts';
import { SourceSize } from './expected-size.ts';
import { asJobFailure, createRepository, itemMetadata, manifestKeyOf, resourceOf, toSourceItem } from './engine-runtime.ts';
import { type BackupState, DEFAULT_FULL_RUN_EVERY_MS, planResource, publishedState, readBackupState, recordResource } from './incremental.ts';
import type { BackupSettings } from './settings.ts';
import { snapshotChanges } from './changes.ts';
import { SourceStats } from '../entities/source-stats.ts';
import { changeHistory, detectAnomaly } from '../services/anomaly.ts';
import { DEFAULT_GC_DELAY_MS, requestGc } from '../services/maintenance.ts';
import type { JobKind } from '../entities/job.ts';
import { AccountLocks } from './account-lock.ts';
import { runGc, runTier, runVerify } from './maintenance.ts';
import { assertStorageQuota } from './storage-quota.ts';

/** What EXPORT, RESTORE and VERIFY jobs carry in `params` (set by the mutations in services/snapshot-jobs.ts). */
export interface SnapshotJobParams {
  /** The catalogue's snapshot id (what clients name). */
  snapshotId: string;
  /** The engine's snapshot id (the backup job's id). */
  engineSnapshotId: string;
  /** The source's name when the job was queued, for the export's file name. */
  sourceName?: string;
  /** Only these item paths; every item when absent. */
  items?: string[] | null;
  format?: 'TAR_ZSTD' | 'ZIP';
  target?: 'DOWNLOAD' | 'PLATFORM';
  /** PLATFORM restores: the connection to write to (default: the source's). */
  connectionId?: string | null;
  /** PLATFORM restores: connector options (e.g. PostgreSQL `existing`, `schema`). */
  options?: Record<string, unknown>;
  sample?: number;
  /** What `sample` is a share of: chunks (a snapshot's verify) or packs (the weekly verify of the account). */
  sampleBy?: 'CHUNKS' | 'PACKS';
}

const DEFAULT_DOWNLOAD_TTL_SECONDS = 24 * 60 * 60;

/** Kinds that read the account's chunks: they re-read the pack indexes first, as a GC elsewhere may have rewritten packs. */
const READS_CHUNKS: ReadonlySet<JobKind> = new Set(['EXPORT', 'RESTORE', 'VERIFY', 'TIER']);
/** Kinds that can work on the whole of an account's stored data (without a source). GC checks for itself: it also purges. */
const ACCOUNT_WIDE: ReadonlySet<JobKind> = new Set(['VERIFY', 'TIER']);

/** Registers BACKUP, PRUNE, EXPORT, RESTORE, VERIFY, TIER and GC. Returns the repository (to close with the worker). */
export function registerBackupHandlers(registry: JobHandlerRegistry, deps: WorkerDeps, settings: BackupSettings): Repository {
  const repository = settings.repository ?? createRepository(settings);
  const connectors = createConnectorRegistry(settings.connectors);
  const h = new Handlers(deps, settings, repository, connectors);
  const locks = new AccountLocks(deps.databaseUrl);
  const wrap =
    (kind: JobKind, fn: (ctx: JobContext) => Promise<JobOutcome>): JobHandler =>
    async (ctx) => {
      const mode = kind === 'GC' ? 'exclusive' : 'shared';
      const onWait = () => ctx.log(mode === 'exclusive' ? 'Waiting for the jobs using the account’s stored data to finish' : 'Waiting for the maintenance of the account’s stored data to finish');
      let signal = ctx.signal;
      try {
        return await locks.hold(ctx.job.accountId, mode, ctx.signal, onWait, async (held) => {
          signal = AbortSignal.any([ctx.signal, held.signal]);
          // An account's maintenance (TIER, the weekly VERIFY) may come after it stored nothing yet, or after its purge: opening it would create it.
          if (ACCOUNT_WIDE.has(kind) && !ctx.job.sourceId && !(await repository.store.exists(layout.config(ctx.job.accountId)))) {
            ctx.log('The account has no stored data');
            return { result: {} };
          }
          if (READS_CHUNKS.has(kind)) await (await repository.account(ctx.job.accountId)).refreshIndex();
          return fn({ ...ctx, signal });
        });
      } catch (error) {
        throw asJobFailure(error, signal);
      }
    };
  registry.register('BACKUP', wrap('BACKUP', (ctx) => h.backup(ctx)));
  registry.register('PRUNE', wrap('PRUNE', (ctx) => h.prune(ctx)));
  registry.register('EXPORT', wrap('EXPORT', (ctx) => h.export(ctx)));
  registry.register('RESTORE', wrap('RESTORE', (ctx) => h.restore(ctx)));
  registry.register('VERIFY', wrap('VERIFY', (ctx) => h.verify(ctx)));
  registry.register('TIER', wrap('TIER', async (ctx) => runTier(ctx, await h.account(ctx.job.accountId), settings)));
  registry.register('GC', wrap('GC', (ctx) => runGc(ctx, deps, settings, repository)));
  return repository;
}

class Handlers {
  readonly deps: WorkerDeps;
  readonly settings: BackupSettings;
  readonly repository: Repository;
  readonly connectors: ConnectorRegistry;

  constructor(deps: WorkerDeps, settings: BackupSettings, repository: Repository, connectors: ConnectorRegistry) {
    this.deps = deps;
    this.settings = settings;
    this.repository = repository;
    this.connectors = connectors;
  }

  async source(ctx: JobContext): Promise<SourceInfo> {
    const { job } = ctx;
    if (!job.sourceId) throw new JobFailure('CONFIG', 'This job names no source');
    const source = await this.deps.sources.getSource(job.sourceId, `job-${job.id}`).catch((cause) => {
      throw new JobFailure('TRANSIENT', 'The source could not be read right now', { cause });
    });
    if (!source || source.deleted || source.accountId !== job.accountId) throw new JobFailure('CONFIG', 'The source no longer exists');
    return source;
  }

  connectorRun(ctx: JobContext, connectionId: string, first: ConnectionCredentials) {
    const { job } = ctx;
    const connector = this.connectors.get(first.platform, first.definition, first.apiRoot);
    let latest: Credentials = first.credentials;
    return {
      connector,
      init: {
        credentials: async () => latest,
        refreshCredentials: async () => {
          latest = (await this.settings.credentials.get(job.accountId, connectionId, { forceRefresh: true, requestId: `job-${job.id}` })).credentials;
          return latest;
        },
        signal: ctx.signal,
        log: this.deps.log.child({ jobId: job.id }),
        retry: this.settings.connectorRetry,
        connection: connectionId,
      },
      /** Runs the connector's work; a credential the platform refuses after its refresh marks the connection to be authorized again. */
      guard: async <T>(work: () => Promise<T>): Promise<T> => {
        try {
          return await work();
        } catch (error) {
          if (error instanceof ConnectorError && error.failureType === 'AUTH' && !ctx.signal.aborted) {
            await this.settings.credentials.refused?.(job.accountId, connectionId, latest, error.message, { requestId: `job-${job.id}` }).catch((cause: unknown) => {
              this.deps.log.warn({ err: cause, jobId: job.id }, 'marking the connection as refused failed');
            });
          }
          throw error;
        }
      },
    };
  }

  async account(accountId: string): Promise<AccountRepository> {
    return this.repository.account(accountId);
  }

  async backup(ctx: JobContext): Promise<JobOutcome> {
    const { job } = ctx;
    const clock = this.settings.now ?? (() => new Date());
    await assertStorageQuota(this.deps.orm.em.fork(), job.accountId, clock());
    const source = await this.source(ctx);
    if (source.resources.length === 0) throw new JobFailure('CONFIG', 'The source names no resources to back up');
    const credentials = await this.settings.credentials.get(job.accountId, source.connectionId, { requestId: `job-${job.id}` });
    const { connector, init, guard } = this.connectorRun(ctx, source.connectionId, credentials);
    for (const resource of source.resources) {
      if (!connector.resources.some((r) => r.name === resource)) throw new JobFailure('CONFIG', `${connector.name} has no resource "${resource}"`);
    }
    if (ctx.lastCheckpoint) ctx.log('Resuming: items stored by the earlier attempt are kept, not fetched again');
    const checkpoint = ctx.checkpoint;
    const account = await this.account(job.accountId);
    const parent = (await listSnapshots(account, { sourceId: source.id })).at(-1) ?? null;
    const previous = readBackupState(parent);
    // A source rarely changes size much between backups: the last snapshot's item count is the estimate.
    if (parent) ctx.progress({ itemsTotal: parent.totals.items, totalsEstimated: true });
    const next: BackupState = { version: 1, resources: {} };
    const fullRunEveryMs = this.settings.fullRunEveryMs ?? DEFAULT_FULL_RUN_EVERY_MS;
    const params = (job.params ?? {}) as BackupJobParams;
    /** Resources read in full this time: every item's content is read, whatever its change marker says. */
    const readInFull = new Set<string>();
    const size = new SourceSize(source.resources);
    const report = (update: ProgressUpdate | undefined) => update && ctx.progress(update);
    async function* items(): AsyncGenerator<SourceItem | CarriedItem> {
      for (const resource of source.resources) {
        const now = clock();
        const incremental = connector.resources.some((r) => r.name === resource && r.incremental);
        const plan = !parent
          ? ({ full: true, reason: 'the first backup of this source' } as const)
          : params.full
            ? ({ full: true, reason: 'a full backup was asked for' } as const)
            : planResource(previous, resource, incremental, now, fullRunEveryMs);
        if (plan.full) readInFull.add(resource);
        ctx.log(
          plan.full
            ? `Backing up ${resource} in full: ${plan.reason}`
            : plan.cursor !== undefined
              ? `Backing up ${resource}: what changed since the last backup`
              : `Backing up ${resource}: every item listed, contents unchanged since the last backup kept`,
        );
        const listedInFull = plan.full || plan.cursor === undefined || !parent;
        if (!listedInFull) size.unknowable(resource);
        const run = fetchResource(connector, resource, { ...init, cursor: plan.full ? undefined : plan.cursor, onExpect: (expected) => report(size.expect(resource, expected)) });
        const fetched = new Set<string>();
        for await (const item of run) {
          const sourceItem = toSourceItem(resource, item);
          fetched.add(sourceItem.id);
          yield sourceItem;
        }
        if (listedInFull) {
          report(size.finished(resource, run.itemCount));
          ctx.log(`${resource}: ${run.itemCount} items ${plan.full ? 'read' : 'listed'}`);
        } else {
          let carried = 0;
          for await (const item of snapshotItems(account, parent)) {
            if (itemMetadata(item.metadata)?.resource !== resource || fetched.has(item.id)) continue;
            carried++;
            yield { id: item.id, carried: item };
          }
          ctx.log(`${resource}: ${run.itemCount} new or changed items read, ${carried} unchanged items kept from the last backup`);
        }
        recordResource(next, resource, plan, run.cursor, now);
        await checkpoint({ snapshotId: job.id, resourcesRead: source.resources.slice(0, source.resources.indexOf(resource) + 1) });
      }
    }
    const result = await guard(() => runBackup(this.repository, {
      accountId: job.accountId,
      sourceId: source.id,
      snapshotId: job.id,
      parentSnapshotId: parent?.id ?? null,
      items: items(),
      rehash: (item) => readInFull.has(resourceOf(item.id)),
      state: (rejected) => publishedState(next, rejected),
      signal: ctx.signal,
      labels: { jobId: job.id },
      onProgress: (p) => {
        ctx.progress({ itemsDone: p.itemsDone + p.itemsResumed + p.itemsCarried + p.itemsUnchanged, bytesDone: p.bytesDone });
        if (p.final && p.itemsUnchanged > 0) ctx.log(`${p.itemsUnchanged} items unchanged since the last backup (by their change marker) kept without reading them`);
      },
    }));
    for (const rejected of result.rejected) ctx.log(`Skipped ${rejected.path}: ${rejected.reason}`, 'WARN');
    const { snapshot } = result;
    // Compared with the parent the snapshot records (a retried job that had published already compares the same way).
    const parentHeader = snapshot.parentId ? await readSnapshot(account, snapshot.parentId).catch(() => null) : null;
    const changes = await snapshotChanges(account, parentHeader, snapshot, { resources: source.resources, rejectedIds: new Set(result.rejected.map((r) => r.id)) });
    const stats = await this.deps.orm.em.fork().findOne(SourceStats, { sourceId: source.id, accountId: job.accountId });
    const anomaly = detectAnomaly(changes, stats && changeHistory(stats));
    if (anomaly) ctx.log(`${anomaly.reason} The snapshot is flagged, and kept past its retention until someone acknowledges it.`, 'WARN');
    const recorded = await this.deps.sources.recordSnapshot(
      {
        jobId: job.id,
        sourceId: source.id,
        accountId: job.accountId,
        itemCount: snapshot.totals.items,
        logicalBytes: snapshot.totals.logicalBytes,
        storedBytes: snapshot.totals.storedBytes,
        partial: result.rejected.length > 0,
        manifestKey: manifestKeyOf(job.accountId, snapshot.id),
        createdAt: snapshot.createdAt,
        changes,
        anomaly: anomaly && { kind: anomaly.kind, reason: anomaly.reason, share: anomaly.share, typicalShare: anomaly.typicalShare },
      },
      `job-${job.id}`,
    );
    ctx.progress({ itemsDone: snapshot.totals.items, itemsTotal: snapshot.totals.items, bytesDone: snapshot.totals.logicalBytes });
    ctx.log(
      `Snapshot stored: ${snapshot.totals.items} items, ${snapshot.totals.logicalBytes} bytes, ${snapshot.totals.newBytes} new bytes after deduplication (${snapshot.totals.storedBytes} bytes written)`,
    );
    await enqueueJob(this.deps.orm.em.fork(), this.deps.queue, {
      accountId: job.accountId,
      sourceId: source.id,
      kind: 'PRUNE',
      trigger: { kind: 'SYSTEM' },
      idempotencyKey: `prune-after:${job.id}`,
    });
    return {
      partialSuccess: result.rejected.length > 0,
      result: {
        snapshotId: recorded.id,
        engineSnapshotId: snapshot.id,
        items: snapshot.totals.items,
        logicalBytes: snapshot.totals.logicalBytes,
        newBytes: snapshot.totals.newBytes,
        storedBytes: snapshot.totals.storedBytes,
        rejected: result.rejected.length,
        changes,
        anomaly: anomaly && { kind: anomaly.kind, reason: anomaly.reason },
      },
    };
  }

  /** Applies the source's retention: the catalogue forgets the dropped snapshots first, then the engine; a GC job then frees their data. */
  async prune(ctx: JobContext): Promise<JobOutcome> {
    const { job } = ctx;
    const source = await this.source(ctx);
    const account = await this.account(job.accountId);
    const snapshots = await listSnapshots(account, { sourceId: source.id });
    const decision = prune(snapshots, source.retention);
    const catalogue = await this.deps.sources.listSnapshots(source.id, `job-${job.id}`);
    const engineIdOf = (s: { manifestKey: string }) => s.manifestKey.slice(s.manifestKey.lastIndexOf('/') + 1);
    // A snapshot flagged as an anomaly stays until someone acknowledges it, whatever the retention.
    const held = new Set(catalogue.filter((s) => s.held).map(engineIdOf));
    decision.drop = decision.drop.filter((s) => !held.has(s.id));
    if (held.size > 0) ctx.log(`Kept ${held.size} flagged snapshot(s) past the retention until acknowledged`);
    const dropIds = new Set(decision.drop.map((s) => s.id));
    if (dropIds.size > 0) {
      const ids = catalogue.filter((s) => dropIds.has(engineIdOf(s))).map((s) => s.id);
      if (ids.length) await this.deps.sources.deleteSnapshots(source.id, ids, `job-${job.id}`);
      for (const snapshot of decision.drop) {
        ctx.signal.throwIfAborted();
        await deleteSnapshot(account, snapshot.id);
      }
      const { job: gc } = await requestGc(this.deps.orm.em, this.deps.queue, {
        accountId: job.accountId,
        forget: [...dropIds],
        trigger: { kind: 'SYSTEM' },
        delayMs: this.settings.gcDelayMs ?? DEFAULT_GC_DELAY_MS,
      });
      ctx.log(`Retention dropped ${dropIds.size} snapshot(s), kept ${decision.keep.length}; GC job ${gc.id} frees their data`);
    }
    return { result: { dropped: dropIds.size, kept: decision.keep.length } };
  }

  async snapshotOf(ctx: JobContext): Promise<{ params: SnapshotJobParams; account: AccountRepository; header: SnapshotHeader; itemIds?: string[] }> {
    const params = ctx.job.params as unknown as SnapshotJobParams;
    if (!params?.engineSnapshotId) throw new JobFailure('CONFIG', 'This job names no snapshot');
    const account = await this.account(ctx.job.accountId);
    const header = await readSnapshot(account, params.engineSnapshotId);
    if (ctx.job.sourceId && header.sourceId !== ctx.job.sourceId) throw new JobFailure('CONFIG', 'The snapshot belongs to another source');
    let itemIds: string[] | undefined;
    if (params.items && params.items.length > 0) {
      const wanted = new Set(params.items);
      itemIds = [];
      for await (const item of snapshotItems(account, header)) if (wanted.has(item.path)) itemIds.push(item.id);
      if (itemIds.length < wanted.size) throw new JobFailure('CONFIG', `${wanted.size - itemIds.length} of the chosen items are not in the snapshot`);
    }
    return { params, account, header, itemIds };
  }

  async archive(ctx: JobContext, format: ExportFormat): Promise<JobOutcome> {
    const { params, account, header, itemIds } = await this.snapshotOf(ctx);
    const items = itemIds?.length ?? header.totals.items;
    ctx.progress({ itemsTotal: items, bytesTotal: itemIds ? null : header.totals.logicalBytes });
    const archive = await exportSnapshot(account, header.id, { format, itemIds, signal: ctx.signal });
    let done = 0;
    archive.stream.on('data', (piece: Buffer) => {
      done += piece.length;
      ctx.progress({ bytesDone: done });
    });
    const stored = await storeDownload(account, ctx.job.id, archive.stream, ctx.signal);
    const ttl = this.settings.downloadTtlSeconds ?? DEFAULT_DOWNLOAD_TTL_SECONDS;
    const download: StoredDownload = {
      fileName: exportFileName(params.sourceName, header.createdAt, archive.fileName),
      contentType: archive.contentType,
      ...stored,
      items,
      expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
    };
    ctx.progress({ itemsDone: items });
    ctx.log(`Archive ready: ${download.fileName}, ${download.bytes} bytes, downloadable until ${download.expiresAt}`);
    return { result: { download } };
  }

  async export(ctx: JobContext): Promise<JobOutcome> {
    const format = (ctx.job.params as unknown as SnapshotJobParams).format === 'ZIP' ? 'zip' : 'tar.zst';
    return this.archive(ctx, format);
  }

  async restore(ctx: JobContext): Promise<JobOutcome> {
    const params = ctx.job.params as unknown as SnapshotJobParams;
    // A download of the raw files: a zip, stored (not recompressed), which every system opens.
    if (params.target !== 'PLATFORM') return this.archive(ctx, 'zip');
    const { account, header, itemIds } = await this.snapshotOf(ctx);
    const source = await this.source(ctx);
    const connectionId = params.connectionId ?? source.connectionId;
    const credentials = await this.settings.credentials.get(ctx.job.accountId, connectionId, { requestId: `job-${ctx.job.id}` });
    const { connector, init, guard } = this.connectorRun(ctx, connectionId, credentials);
    const wanted = itemIds ? new Set(itemIds) : undefined;
    const byResource = new Map<string, number>();
    for await (const item of snapshotItems(account, header, { ids: wanted })) {
      const meta = itemMetadata(item.metadata);
      if (meta) byResource.set(meta.resource, (byResource.get(meta.resource) ?? 0) + 1);
    }
    for (const resource of byResource.keys()) {
      if (!canRestore(connector, resource)) throw new JobFailure('CONFIG', `${connector.name} cannot write ${resource} back; restore to a download instead`);
    }
    ctx.progress({ itemsTotal: [...byResource.values()].reduce((a, b) => a + b, 0) });
    let restored = 0;
    let units = 0;
    for (const resource of byResource.keys()) {
      const items = this.restoreItems(account, header, resource, wanted, ctx);
      const result = await guard(() => restoreResource(connector, resource, items, { ...init, options: params.options ?? {} }));
      restored += result.restored;
      units += result.units ?? 0;
      ctx.log(`${resource}: ${result.restored} item(s) written back to ${connector.name}`);
    }
    return { result: { restored: { items: restored, units, target: 'PLATFORM', connectionId } } };
  }

  async *restoreItems(account: AccountRepository, header: SnapshotHeader, resource: string, ids: Set<string> | undefined, ctx: JobContext): AsyncGenerator<RestoreItem> {
    for await (const item of snapshotItems(account, header, { ids })) {
      const meta = itemMetadata(item.metadata);
      if (!meta || meta.resource !== resource) continue;
      yield restoreItem(account, item, meta, ctx);
    }
  }

  async verify(ctx: JobContext): Promise<JobOutcome> {
    return runVerify(ctx, await this.account(ctx.job.accountId));
  }
}

function restoreItem(account: AccountRepository, item: SnapshotItem, meta: NonNullable<ReturnType<typeof itemMetadata>>, ctx: JobContext): RestoreItem {
  return {
    id: meta.id,
    path: item.path,
    size: item.size,
    updatedAt: meta.updatedAt ?? undefined,
    contentType: meta.contentType ?? undefined,
    metadata: (meta.metadata ?? {}) as Record<string, unknown>,
    content: () => account.readItem(item.chunks, { signal: ctx.signal, expectedContentHash: item.contentHash }) as Readable & AsyncIterable<Uint8Array>,
  };
}

/**
 * `<source>-<snapshot time>.<ext>`, e.g. `Stripe-production-2026-12-02T09-51-32Z.tar.zst`: the source's
 * name with only characters every file system and Content-Disposition take, and the snapshot's UTC
 * time without colons. Without a name (jobs queued before names were recorded), `snapshot-…`.
 */
export function exportFileName(sourceName: string | undefined, createdAt: string, engineFileName: string): string {
  const extension = engineFileName.match(/\.(tar\.zst|zip)$/)?.[0] ?? '';
  const name = (sourceName ?? '').normalize('NFKD').replace(/\p{M}+/gu, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 80) || 'snapshot';
  const time = new Date(createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
  return `${name}-${time}${extension}`;
}
