import type { CataloguePlatform } from '../platform.ts';
import { createGoogleDriveConnector } from './connector.ts';
import { definition } from './definition.ts';

export default { definition, connector: createGoogleDriveConnector } satisfies CataloguePlatform;
