import type { CataloguePlatform } from '../platform.ts';
import { createSalesforceConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createSalesforceConnector } satisfies CataloguePlatform;
