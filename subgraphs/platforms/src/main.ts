import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { startPlatforms } from './index.ts';

await runSubgraphProcess('platforms', 4002, startPlatforms);
