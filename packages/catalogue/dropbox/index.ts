import type { CataloguePlatform } from '../platform.ts';
import { createDropboxConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createDropboxConnector } satisfies CataloguePlatform;
