import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { billingOptionsFromEnv, startBilling } from './index.ts';

// The daily storage reconciliation reads the backup store's figures from the jobs subgraph (JOBS_URL).
await runSubgraphProcess('billing', 4005, (runtime) => startBilling(runtime, billingOptionsFromEnv()));
