import { OutboxActorMigration } from '@listbackup/lib/events/outbox-migration';
import { Migration0001Initial } from './0001-initial.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-outbox-actor', class: OutboxActorMigration },
];
