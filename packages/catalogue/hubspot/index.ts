import type { CataloguePlatform } from '../platform.ts';
import { createHubSpotConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createHubSpotConnector } satisfies CataloguePlatform;
