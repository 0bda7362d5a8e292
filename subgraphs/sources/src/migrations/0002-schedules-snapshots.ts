import { Migration } from '@mikro-orm/migrations';

/** Schedules, retention and soft deletion of sources; the snapshot catalogue. */
export class Migration0002SchedulesSnapshots extends Migration {
  override up(): void {
    this.addSql(`alter table "sources" add column "schedule_kind" text not null default 'MANUAL', add column "cron" text null, add column "time_zone" text null, add column "next_run_at" timestamptz null, add column "keep_last" int not null default 0, add column "keep_daily" int not null default 0, add column "keep_weekly" int not null default 0, add column "keep_monthly" int not null default 0, add column "updated_at" timestamptz null, add column "deleted_at" timestamptz null;`);
    this.addSql(`update "sources" set "updated_at" = "created_at";`);
    this.addSql(`alter table "sources" alter column "updated_at" set default now(), alter column "updated_at" set not null;`);
    this.addSql(`alter table "sources" add constraint "sources_schedule_kind_check" check ("schedule_kind" in ('MANUAL', 'CRON'));`);
    this.addSql(`create index "sources_due_idx" on "sources" ("next_run_at") where next_run_at is not null;`);
    this.addSql(`create table "snapshots" ("id" uuid not null, "account_id" uuid not null, "source_id" uuid not null, "job_id" uuid not null, "created_at" timestamptz not null, "item_count" bigint not null default '0', "logical_bytes" bigint not null default '0', "stored_bytes" bigint not null default '0', "partial" boolean not null default false, "manifest_key" text not null, primary key ("id"));`);
    this.addSql(`alter table "snapshots" add constraint "snapshots_job_id_unique" unique ("job_id");`);
    this.addSql(`create index "snapshots_source_created_idx" on "snapshots" ("source_id", "created_at", "id");`);
    this.addSql(`create index "snapshots_account_id_idx" on "snapshots" ("account_id");`);
  }
}
