import { Migration } from '@mikro-orm/migrations';

export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql(`create table "jobs" ("id" uuid not null, "account_id" uuid not null, "source_id" uuid null, "kind" text check ("kind" in ('BACKUP', 'EXPORT', 'RESTORE', 'VERIFY')) not null, "status" text check ("status" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')) not null default 'QUEUED', "created_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "jobs_account_id_index" on "jobs" ("account_id");`);
  }
}
