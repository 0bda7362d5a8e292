import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { startAccounts } from './index.ts';

// Accounts answers role look-ups itself, so the access resolver the others get is not used.
await runSubgraphProcess('accounts', 4001, startAccounts);
