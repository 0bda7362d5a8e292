import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { PlatformSchema } from './entities/platform.ts';
import { ConnectionSchema } from './entities/connection.ts';
import { ConnectionSecretSchema } from './entities/connection-secret.ts';
import { WebhookDeliverySchema } from './entities/webhook-delivery.ts';
import { AccountPlanRecord } from '@listbackup/lib/events/account-plans';
import { migrations } from './migrations/index.ts';

export const database = {
  schema: 'platforms',
  entities: [PlatformSchema, ConnectionSchema, ConnectionSecretSchema, WebhookDeliverySchema, AccountPlanRecord, OutboxEvent, ProcessedEvent],
  migrations,
};
