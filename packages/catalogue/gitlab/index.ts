import type { CataloguePlatform } from '../platform.ts';
import { createGitLabConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createGitLabConnector } satisfies CataloguePlatform;
