import { ChunkIntegrityError, DecryptionError, EngineConfigError, EngineError, type Json, layout, Repository, SnapshotNotFoundError, type SourceItem, StoreKeyProvider } from '@listbackup/engine';
import { ConnectorError, type ConnectorItem, UnavailableError } from '@listbackup/catalogue/sdk';
import { JobFailure } from '../worker/errors.ts';
import type { BackupSettings } from './settings.ts';

/** One repository per process: it caches account keys and shares one budget of bytes in flight. */
export function createRepository(settings: Pick<BackupSettings, 'store' | 'keyring'>): Repository {
  return new Repository({ store: settings.store, keys: new StoreKeyProvider(settings.store, settings.keyring) });
}

/** The catalogue's `manifestKey` of an engine snapshot: the key of its (sealed) header. */
export const manifestKeyOf = (accountId: string, snapshotId: string) => layout.snapshot(accountId, snapshotId);

/** The engine snapshot id in a `manifestKey`, or null when the key is not one of this account's snapshots. */
export function snapshotIdOf(accountId: string, manifestKey: string): string | null {
  const prefix = layout.snapshots(accountId);
  if (!manifestKey.startsWith(prefix)) return null;
  const id = manifestKey.slice(prefix.length);
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(id) ? id : null;
}

/** What a snapshot keeps about an item besides its bytes: enough to browse it and write it back. */
export interface ItemMetadata {
  resource: string;
  /** The platform's id of the item. */
  id: string;
  contentType?: string | null;
  updatedAt?: string | null;
  /** The connector's own metadata (restore needs it). */
  metadata: Json;
}

/** A connector's item as an engine item: ids and paths are made unique across the source's resources. */
export function toSourceItem(resource: string, item: ConnectorItem): SourceItem {
  const metadata: ItemMetadata = {
    resource,
    id: item.id,
    contentType: item.contentType ?? null,
    updatedAt: item.updatedAt ?? null,
    metadata: item.metadata as Json,
  };
  return {
    id: `${resource}:${item.id}`,
    path: item.path.startsWith(`${resource}/`) ? item.path : `${resource}/${item.path}`,
    size: item.size,
    modifiedAt: item.updatedAt,
    changeMarker: item.changeMarker,
    metadata: metadata as unknown as Json,
    content: () => item.content(),
  };
}

/** The resource of an engine item id made by toSourceItem (`resource:platform id`). */
export function resourceOf(itemId: string): string {
  return itemId.slice(0, itemId.indexOf(':'));
}

export function itemMetadata(metadata: Json): ItemMetadata | null {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return null;
  const value = metadata as Record<string, Json>;
  if (typeof value.resource !== 'string' || typeof value.id !== 'string') return null;
  return value as unknown as ItemMetadata;
}

/**
 * Turns what the connectors and the engine throw into the job runtime's failure types: a refused
 * credential is AUTH and a setting CONFIG (neither retried), a rate limit is RATE_LIMITED with the platform's
 * wait, an outage TRANSIENT; data that does not decrypt is CONFIG, a damaged chunk DAMAGED, with a plain message.
 * Aborts pass through untouched (the worker knows why it aborted).
 */
export function asJobFailure(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? error;
  if (error instanceof JobFailure) return error;
  if (error instanceof ConnectorError) {
    if (error.failureType === 'INTERNAL') return error;
    return new JobFailure(error.failureType, error.message, { retryAfterMs: error.retryAfterMs, cause: error, deferred: error instanceof UnavailableError });
  }
  if (error instanceof DecryptionError) {
    return new JobFailure('CONFIG', 'The stored data does not decrypt with this server’s storage keys; nothing was changed', { cause: error });
  }
  if (error instanceof ChunkIntegrityError) return new JobFailure('DAMAGED', `Stored data is damaged: ${error.message}`, { cause: error });
  if (error instanceof SnapshotNotFoundError) return new JobFailure('CONFIG', 'The snapshot’s stored data is gone (it may have been pruned)', { cause: error });
  if (error instanceof EngineConfigError) return new JobFailure('CONFIG', error.message, { cause: error });
  if (error instanceof EngineError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOSPC', 'EMFILE'].includes(code)) {
    return new JobFailure('TRANSIENT', `Storage is not available right now (${code})`, { cause: error });
  }
  return error;
}
