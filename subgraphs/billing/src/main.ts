import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { startBilling } from './index.ts';

await runSubgraphProcess('billing', 4005, startBilling);
