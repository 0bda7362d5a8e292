import type { CataloguePlatform } from '../platform.ts';
import { definition } from './definition.ts';

export default { definition } satisfies CataloguePlatform;
