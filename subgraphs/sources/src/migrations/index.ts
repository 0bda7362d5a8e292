import { OutboxActorMigration, OutboxMigration, OutboxTraceMigration } from '@listbackup/lib/events/outbox-migration';
import { AccountPlansMigration } from '@listbackup/lib/events/account-plans';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0002SchedulesSnapshots } from './0002-schedules-snapshots.ts';
import { Migration0005SnapshotAnomalies } from './0005-snapshot-anomalies.ts';
import { Migration0006SourcePages } from './0006-source-pages.ts';
import { Migration0007AccountHolds } from './0007-account-holds.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-schedules-snapshots', class: Migration0002SchedulesSnapshots },
  { name: '0003-outbox', class: OutboxMigration },
  { name: '0004-outbox-actor', class: OutboxActorMigration },
  { name: '0005-snapshot-anomalies', class: Migration0005SnapshotAnomalies },
  { name: '0006-source-pages', class: Migration0006SourcePages },
  { name: '0007-account-holds', class: Migration0007AccountHolds },
  { name: '0008-outbox-trace', class: OutboxTraceMigration },
  { name: '0009-account-plans', class: AccountPlansMigration },
];
