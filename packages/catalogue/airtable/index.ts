import type { CataloguePlatform } from '../platform.ts';
import { createAirtableConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createAirtableConnector } satisfies CataloguePlatform;
