import type { JobHandlerRegistry } from './registry.ts';
import type { WorkerDeps } from './index.ts';

/**
 * The product's job handlers. Seam for the backup engine and the connectors: BACKUP (connector →
 * engine pipeline → `deps.sources.recordSnapshot`), EXPORT, RESTORE, VERIFY, PRUNE and TIER register
 * here, each `registry.register(kind, handler)`.
 */
export async function registerDefaultHandlers(_registry: JobHandlerRegistry, _deps: WorkerDeps): Promise<void> {}
