import type { CataloguePlatform } from '../platform.ts';
import { createIntercomConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createIntercomConnector } satisfies CataloguePlatform;
