import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { PlanSchema } from './entities/plan.ts';
import { PlanSubscriptionSchema } from './entities/plan-subscription.ts';
import { migrations } from './migrations/index.ts';
import { StorageChangeSchema } from './entities/storage-change.ts';
import { MeteredSnapshotSchema } from './entities/metered-snapshot.ts';
import { MeteredAccountSchema } from './entities/metered-account.ts';

export const database = { schema: 'billing', entities: [PlanSchema, PlanSubscriptionSchema, StorageChangeSchema, MeteredSnapshotSchema, MeteredAccountSchema, OutboxEvent, ProcessedEvent], migrations };
