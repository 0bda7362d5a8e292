import type { CataloguePlatform } from '../platform.ts';
import { createXeroConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createXeroConnector } satisfies CataloguePlatform;
