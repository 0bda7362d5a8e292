import { OutboxActorMigration, OutboxMigration, OutboxTraceMigration } from '@listbackup/lib/events/outbox-migration';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0002Runtime } from './0002-runtime.ts';
import { Migration0005Analytics } from './0005-analytics.ts';
import { Migration0006StorageKeyRotations } from './0006-storage-key-rotations.ts';
import { Migration0007StorageKeks } from './0007-storage-keks.ts';
import { Migration0008GcJobs } from './0008-gc-jobs.ts';
import { Migration0010MaintenanceSchedule } from './0010-maintenance-schedule.ts';
import { Migration0011StorageQuota } from './0011-storage-quota.ts';
import { Migration0012WebhookTrigger } from './0012-webhook-trigger.ts';
import { Migration0013AuthFailures } from './0013-auth-failures.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-runtime', class: Migration0002Runtime },
  { name: '0003-outbox', class: OutboxMigration },
  { name: '0004-outbox-actor', class: OutboxActorMigration },
  { name: '0005-analytics', class: Migration0005Analytics },
  { name: '0006-storage-key-rotations', class: Migration0006StorageKeyRotations },
  { name: '0007-storage-keks', class: Migration0007StorageKeks },
  { name: '0008-gc-jobs', class: Migration0008GcJobs },
  { name: '0009-outbox-trace', class: OutboxTraceMigration },
  { name: '0010-maintenance-schedule', class: Migration0010MaintenanceSchedule },
  { name: '0011-storage-quota', class: Migration0011StorageQuota },
  { name: '0012-webhook-trigger', class: Migration0012WebhookTrigger },
  { name: '0013-auth-failures', class: Migration0013AuthFailures },
];
