import { OutboxActorMigration, OutboxMigration } from '@listbackup/lib/events/outbox-migration';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0002SchedulesSnapshots } from './0002-schedules-snapshots.ts';
import { Migration0005SnapshotAnomalies } from './0005-snapshot-anomalies.ts';
import { Migration0006SourcePages } from './0006-source-pages.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-schedules-snapshots', class: Migration0002SchedulesSnapshots },
  { name: '0003-outbox', class: OutboxMigration },
  { name: '0004-outbox-actor', class: OutboxActorMigration },
  { name: '0005-snapshot-anomalies', class: Migration0005SnapshotAnomalies },
  { name: '0006-source-pages', class: Migration0006SourcePages },
];
