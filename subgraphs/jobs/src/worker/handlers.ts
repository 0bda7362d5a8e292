import type { JobHandlerRegistry } from './registry.ts';
import type { WorkerDeps } from './index.ts';
import { registerBackupHandlers } from '../backup/handlers.ts';

/**
 * The product's job handlers: BACKUP (connector → engine pipeline → `deps.sources.recordSnapshot`,
 * then a PRUNE), PRUNE (then a GC), EXPORT, RESTORE, VERIFY, TIER and GC, registered when the worker has its
 * storage settings (`deps.backup`). A worker without them runs only the handlers it is given.
 */
export async function registerDefaultHandlers(registry: JobHandlerRegistry, deps: WorkerDeps): Promise<void> {
  if (deps.backup) registerBackupHandlers(registry, deps, deps.backup);
}
