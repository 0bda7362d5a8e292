import type { CataloguePlatform } from '../platform.ts';
import { createMailchimpConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createMailchimpConnector } satisfies CataloguePlatform;
