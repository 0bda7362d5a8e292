import { OutboxActorMigration, OutboxTraceMigration } from '@listbackup/lib/events/outbox-migration';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0003Metering } from './0003-metering.ts';
import { Migration0004PlanChanges } from './0004-plan-changes.ts';
import { Migration0006Invoices } from './0006-invoices.ts';
import { Migration0007PlanLimits } from './0007-plan-limits.ts';
import { Migration0008StorageQuota } from './0008-storage-quota.ts';
import { Migration0009PlanPrices } from './0009-plan-prices.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-outbox-actor', class: OutboxActorMigration },
  { name: '0003-metering', class: Migration0003Metering },
  { name: '0004-plan-changes', class: Migration0004PlanChanges },
  { name: '0005-outbox-trace', class: OutboxTraceMigration },
  { name: '0006-invoices', class: Migration0006Invoices },
  { name: '0007-plan-limits', class: Migration0007PlanLimits },
  { name: '0008-storage-quota', class: Migration0008StorageQuota },
  { name: '0009-plan-prices', class: Migration0009PlanPrices },
];
