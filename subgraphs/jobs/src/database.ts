import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { JobSchema } from './entities/job.ts';
import { JobLogSchema } from './entities/job-log.ts';
import { JobDayStatsSchema } from './entities/job-day-stats.ts';
import { SourceStatsSchema } from './entities/source-stats.ts';
import { StorageKekSchema, StorageKeyRotationSchema } from './entities/storage-key-rotation.ts';
import { AccountQuotaSchema } from './entities/account-quota.ts';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'jobs', entities: [JobSchema, JobLogSchema, JobDayStatsSchema, SourceStatsSchema, StorageKeyRotationSchema, StorageKekSchema, AccountQuotaSchema, OutboxEvent, ProcessedEvent], migrations };
