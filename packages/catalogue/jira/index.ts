import type { CataloguePlatform } from '../platform.ts';
import { createJiraConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createJiraConnector } satisfies CataloguePlatform;
