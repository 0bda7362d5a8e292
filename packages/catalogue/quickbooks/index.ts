import type { CataloguePlatform } from '../platform.ts';
import { createQuickBooksConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createQuickBooksConnector } satisfies CataloguePlatform;
