import { JobSchema } from './entities/job.ts';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'jobs', entities: [JobSchema], migrations };
