import { SourceSchema } from './entities/source.ts';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'sources', entities: [SourceSchema], migrations };
