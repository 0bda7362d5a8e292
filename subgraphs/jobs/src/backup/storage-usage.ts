import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readJson, sendJson } from '@listbackup/lib/http';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { layout, listSnapshots, type Repository } from '@listbackup/engine';

export const STORAGE_USAGE_PATH = '/internal/storage/usage';

const UsageRequest = z.object({ accountId: z.uuid() });

/** What the engine itself says an account stores: billing reconciles its metered totals against it. */
export interface EngineStorageUsage {
  accountId: string;
  /** Every object under the account's prefix (packs, indexes, manifests, keys), as the store sizes them. */
  storedBytes: number;
  /** A backup is writing: its bytes are stored but not yet announced by `data.synced`. */
  backupInProgress: boolean;
  /** Per source, over its published snapshots: the bytes they wrote and their logical size. */
  sources: { sourceId: string; snapshots: number; storedBytes: number; logicalBytes: number }[];
}

export async function engineStorageUsage(repository: Repository, accountId: string): Promise<EngineStorageUsage> {
  let storedBytes = 0;
  let backupInProgress = false;
  let hasSnapshots = false;
  for await (const info of repository.store.list(layout.account(accountId))) {
    storedBytes += info.size;
    if (info.key.endsWith('/pending') && info.key.startsWith(layout.manifests(accountId))) backupInProgress = true;
    if (info.key.startsWith(layout.snapshots(accountId))) hasSnapshots = true;
  }
  const sources = new Map<string, EngineStorageUsage['sources'][number]>();
  // An account that never backed up has no keys yet: opening it would create them.
  if (hasSnapshots) {
    for (const header of await listSnapshots(await repository.account(accountId))) {
      const source = sources.get(header.sourceId) ?? { sourceId: header.sourceId, snapshots: 0, storedBytes: 0, logicalBytes: 0 };
      source.snapshots++;
      source.storedBytes += header.totals.storedBytes;
      source.logicalBytes += header.totals.logicalBytes;
      sources.set(header.sourceId, source);
    }
  }
  return { accountId, storedBytes, backupInProgress, sources: [...sources.values()] };
}

/** `POST /internal/storage/usage` `{ accountId }` for billing's daily reconciliation. */
export function storageUsageRoute(repository: Repository): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const parsed = UsageRequest.safeParse(await readJson(req).catch(() => undefined));
    if (!parsed.success) return sendJson(res, 400, { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    sendJson(res, 200, await engineStorageUsage(repository, parsed.data.accountId));
  };
}
