import { PlatformSchema } from './entities/platform.ts';
import { ConnectionSchema } from './entities/connection.ts';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'platforms', entities: [PlatformSchema, ConnectionSchema], migrations };
