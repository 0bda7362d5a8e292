/**
 * The backup engine: content-defined chunking, per-account envelope encryption, a content-addressed
 * chunk repository on a local directory or S3, immutable snapshot manifests with retention and
 * garbage collection, the backup pipeline, export, restore and verify. No GraphQL, no database:
 * the jobs layer drives it. S3Store is imported from '@listbackup/engine/s3' so the AWS SDK loads only
 * where it is used.
 */
export { type ArchiveEntry, safeArchivePath, tarStream, type ZipMethod, type ZipOptions, zipStream } from './archive.ts';
export { type ChunkingParams, Chunker, chunkStream, createChunkerTransform, DEFAULT_CHUNKING } from './chunker.ts';
export { AccountKeys, rewrapDataKey, Sealer, unwrapDataKey, type WrappedDataKey, wrapDataKey } from './crypto.ts';
export { EnvelopeError, generateDataKey, type Kek, Keyring } from './envelope.ts';
export * from './errors.ts';
export { exportSnapshot, type ExportFormat, type ExportOptions, type ExportStream, snapshotEntries } from './export.ts';
export { type ApplyRetentionOptions, applyRetention, collectGarbage, type GcOptions, type GcProgress, type GcResult } from './gc.ts';
export { type DataKeyProvider, StaticKeyProvider, StoreKeyProvider } from './keys.ts';
export { layout } from './layout.ts';
export { type BackupHooks, type BackupOptions, type BackupProgress, type BackupResult, type CarriedItem, fileChangeMarker, type RejectedItem, runBackup, type SourceItem } from './pipeline.ts';
export {
  AccountRepository,
  type ChunkRef,
  type ReadItemOptions,
  Repository,
  type RepositoryOptions,
  type WriteItemOptions,
  type WriteItemResult,
} from './repository.ts';
export { type PurgeOptions, type PurgeResult, purgeAccountData } from './purge.ts';
export { DirectoryTarget, itemContent, type RestoreOptions, type RestoreResult, type RestoreTarget, restoreSnapshot } from './restore.ts';
export { type Dated, type PruneDecision, prune, type RetentionPolicy, validateRetention } from './retention.ts';
export {
  deleteSnapshot,
  discardManifest,
  type ItemWriteStats,
  type Json,
  listManifests,
  listSnapshots,
  type PendingManifest,
  readSnapshot,
  type SnapshotHeader,
  type SnapshotItem,
  type SnapshotTotals,
  SnapshotWriter,
  snapshotChunks,
  snapshotItems,
} from './snapshot.ts';
export { LocalDirectoryStore, type LocalDirectoryStoreOptions, type ObjectInfo, type ObjectStore, readAll, STORAGE_TIERS, type StorageTier } from './store.ts';
export { applyTiering, DEFAULT_TIERING, type TieringPolicy, tierFor } from './tiering.ts';
export { mapLimit } from './streams.ts';
export { type ChunkProblemReport, type VerifyOptions, type VerifyReport, verify } from './verify.ts';
