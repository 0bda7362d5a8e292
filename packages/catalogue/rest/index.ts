import type { CataloguePlatform } from '../platform.ts';
import { createRestConnector } from './connector.ts';
import { definition } from './definition.ts';

/** Each REST connection describes its own API: the connector is built from that definition. */
export default { definition, connector: (options) => createRestConnector(options.definition) } satisfies CataloguePlatform;
