import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { PlanSchema } from './entities/plan.ts';
import { PlanSubscriptionSchema } from './entities/plan-subscription.ts';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'billing', entities: [PlanSchema, PlanSubscriptionSchema, OutboxEvent, ProcessedEvent], migrations };
