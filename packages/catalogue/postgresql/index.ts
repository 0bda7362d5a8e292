import type { CataloguePlatform } from '../platform.ts';
import { createPostgresConnector } from './connector.ts';
import { definition } from './definition.ts';

/** Reached through each connection's connection string: no API root to point elsewhere. */
export default { definition, connector: () => createPostgresConnector() } satisfies CataloguePlatform;
