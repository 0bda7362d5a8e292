import type { CataloguePlatform } from '../platform.ts';
import { createBoxConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createBoxConnector } satisfies CataloguePlatform;
