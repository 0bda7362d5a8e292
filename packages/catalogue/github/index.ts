import type { CataloguePlatform } from '../platform.ts';
import { createGitHubConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createGitHubConnector } satisfies CataloguePlatform;
