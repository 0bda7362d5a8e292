import { runSubgraphProcess } from '@listbackup/lib/subgraph-main';
import { platformsOptionsFromEnv } from './config.ts';
import { startPlatforms } from './index.ts';

// Besides the common settings: VAULT_KEYS (required), OAUTH_REDIRECT_URL, APP_URL,
// OAUTH_<SLUG>_CLIENT_ID/SECRET and PLATFORM_<SLUG>_<ENDPOINT>_URL (see config.ts).
await runSubgraphProcess('platforms', 4002, (runtime) => startPlatforms(runtime, platformsOptionsFromEnv(process.env)));
