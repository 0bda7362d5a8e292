import type { CataloguePlatform } from '../platform.ts';
import { createSlackConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createSlackConnector } satisfies CataloguePlatform;
