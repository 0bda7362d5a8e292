import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { startJobs } from './index.ts';

await runSubgraphProcess('jobs', 4004, startJobs);
