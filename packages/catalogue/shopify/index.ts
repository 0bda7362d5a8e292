import type { CataloguePlatform } from '../platform.ts';
import { createShopifyConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createShopifyConnector } satisfies CataloguePlatform;
