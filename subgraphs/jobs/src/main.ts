import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { backupSettingsFromEnv } from './backup/settings.ts';
import { createRepository } from './backup/engine-runtime.ts';
import { jobsOptionsFromEnv, startJobs } from './index.ts';

// The jobs subgraph reads the backup store too (exports, verify results): STORAGE_KEYS and
// STORAGE_DIR or STORAGE_S3_* must be the workers' (see backup/settings.ts).
await runSubgraphProcess('jobs', 4004, async (runtime) => {
  const options = jobsOptionsFromEnv();
  const backup = await backupSettingsFromEnv(process.env, { internalTokenSecret: runtime.internalTokenSecret, platformsUrl: options.platformsUrl! });
  return startJobs(runtime, { ...options, backup: { ...backup, repository: createRepository(backup) }, publicUrl: process.env.PUBLIC_URL });
});
