import type { CataloguePlatform } from '../platform.ts';
import { createNotionConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createNotionConnector } satisfies CataloguePlatform;
