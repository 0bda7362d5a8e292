import { OutboxActorMigration, OutboxMigration } from '@listbackup/lib/events/outbox-migration';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0002Runtime } from './0002-runtime.ts';
import { Migration0005Analytics } from './0005-analytics.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-runtime', class: Migration0002Runtime },
  { name: '0003-outbox', class: OutboxMigration },
  { name: '0004-outbox-actor', class: OutboxActorMigration },
  { name: '0005-analytics', class: Migration0005Analytics },
];
