import { Migration } from '@mikro-orm/migrations';

export class Migration0003Metering extends Migration {
  override up(): void {
    this.addSql(`create table "storage_changes" ("id" uuid not null, "event_id" uuid not null, "account_id" uuid not null, "source_id" uuid null, "at" timestamptz not null, "stored_delta" bigint not null, "logical_delta" bigint not null, "reason" text not null, primary key ("id"));`);
    this.addSql(`create index "storage_changes_event_id_index" on "storage_changes" ("event_id");`);
    this.addSql(`create index "storage_changes_account_id_at_index" on "storage_changes" ("account_id", "at");`);
    this.addSql(`alter table "storage_changes" add constraint "storage_changes_reason_check" check ("reason" in ('SYNCED', 'SNAPSHOTS_DELETED', 'GARBAGE_COLLECTED', 'ACCOUNT_DELETED', 'RECONCILED'));`);
    this.addSql(`create table "metered_snapshots" ("snapshot_id" uuid not null, "account_id" uuid not null, "source_id" uuid not null, "stored_bytes" bigint not null, "logical_bytes" bigint not null, "synced_at" timestamptz not null, "deleted_at" timestamptz null, primary key ("snapshot_id"));`);
    this.addSql(`create index "metered_snapshots_account_id_index" on "metered_snapshots" ("account_id");`);
    this.addSql(`create table "metered_accounts" ("account_id" uuid not null, "first_metered_at" timestamptz not null, "reconciled_at" timestamptz null, "last_drift_bytes" bigint not null, "deleted_at" timestamptz null, primary key ("account_id"));`);
  }
}
