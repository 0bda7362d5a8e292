import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { backupSettingsFromEnv } from '../../jobs/src/backup/settings.ts';
import { createRepository } from '../../jobs/src/backup/engine-runtime.ts';
import { EngineItemsReader } from '../../jobs/src/backup/items-reader.ts';
import { sourcesOptionsFromEnv, startSources } from './index.ts';

// Snapshot items are read from the backup store's manifests: same STORAGE_* settings as the workers.
await runSubgraphProcess('sources', 4003, async (runtime) => {
  const backup = await backupSettingsFromEnv(process.env, {
    internalTokenSecret: runtime.internalTokenSecret,
    platformsUrl: process.env.PLATFORMS_URL ?? 'http://127.0.0.1:4002/graphql',
  });
  return startSources(runtime, { ...sourcesOptionsFromEnv(), items: new EngineItemsReader(createRepository(backup)) });
});
