import type { CataloguePlatform } from '../platform.ts';
import { createStripeConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createStripeConnector } satisfies CataloguePlatform;
