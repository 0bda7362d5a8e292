import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { SourceSchema } from './entities/source.ts';
import { SnapshotSchema } from './entities/snapshot.ts';
import { AccountHoldSchema } from './entities/account-hold.ts';
import { AccountPlanRecord } from '@listbackup/lib/events/account-plans';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'sources', entities: [SourceSchema, SnapshotSchema, AccountHoldSchema, AccountPlanRecord, OutboxEvent, ProcessedEvent], migrations };
