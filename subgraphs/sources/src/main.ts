import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { sourcesOptionsFromEnv, startSources } from './index.ts';

// Snapshot items are read by the jobs subgraph (JOBS_URL), which holds the backup store: this
// service needs no storage settings or keys.
await runSubgraphProcess('sources', 4003, (runtime) => startSources(runtime, sourcesOptionsFromEnv()));
