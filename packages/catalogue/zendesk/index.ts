import type { CataloguePlatform } from '../platform.ts';
import { createZendeskConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createZendeskConnector } satisfies CataloguePlatform;
