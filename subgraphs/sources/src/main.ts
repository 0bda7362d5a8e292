import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { startSources } from './index.ts';

await runSubgraphProcess('sources', 4003, startSources);
