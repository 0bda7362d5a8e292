import { OutboxActorMigration } from '@listbackup/lib/events/outbox-migration';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0003Metering } from './0003-metering.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-outbox-actor', class: OutboxActorMigration },
  { name: '0003-metering', class: Migration0003Metering },
];
