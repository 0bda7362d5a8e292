import { OutboxActorMigration, OutboxMigration, OutboxTraceMigration } from '@listbackup/lib/events/outbox-migration';
import { AccountPlansMigration } from '@listbackup/lib/events/account-plans';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0003ConnectionVault } from './0003-connection-vault.ts';
import { Migration0005ConnectionPages } from './0005-connection-pages.ts';
import { Migration0008ConnectionExpiry } from './0008-connection-expiry.ts';
import { Migration0009WebhookDeliveries } from './0009-webhook-deliveries.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-outbox', class: OutboxMigration },
  { name: '0003-connection-vault', class: Migration0003ConnectionVault },
  { name: '0004-outbox-actor', class: OutboxActorMigration },
  { name: '0005-connection-pages', class: Migration0005ConnectionPages },
  { name: '0006-outbox-trace', class: OutboxTraceMigration },
  { name: '0007-account-plans', class: AccountPlansMigration },
  { name: '0008-connection-expiry', class: Migration0008ConnectionExpiry },
  { name: '0009-webhook-deliveries', class: Migration0009WebhookDeliveries },
];
