import { Migration } from '@mikro-orm/migrations';

/** The jobs runtime: kinds, attempts, progress, checkpoints, failures, triggers, log lines. */
export class Migration0002Runtime extends Migration {
  override up(): void {
    this.addSql(`alter table "jobs" drop constraint "jobs_kind_check";`);
    this.addSql(`alter table "jobs" add constraint "jobs_kind_check" check ("kind" in ('BACKUP', 'EXPORT', 'RESTORE', 'VERIFY', 'PRUNE', 'TIER'));`);
    this.addSql(`alter table "jobs" add column "params" jsonb not null default '{}', add column "trigger_kind" text not null default 'SYSTEM', add column "triggered_by_id" text null, add column "idempotency_key" text null, add column "attempts" int not null default 0, add column "failures" int not null default 0, add column "failures_without_progress" int not null default 0, add column "run" int not null default 1, add column "queue_job_id" uuid null, add column "progress" jsonb not null default '{"itemsDone":0,"bytesDone":0}', add column "checkpoint" jsonb null, add column "checkpoint_at" timestamptz null, add column "last_progress_at" timestamptz null, add column "failure_type" text null, add column "failure_reason" text null, add column "partial_success" boolean not null default false, add column "result" jsonb null, add column "cancel_requested_at" timestamptz null, add column "next_attempt_at" timestamptz null, add column "attempt_started_at" timestamptz null, add column "worker_id" text null, add column "updated_at" timestamptz null;`);
    this.addSql(`update "jobs" set "updated_at" = "created_at";`);
    this.addSql(`alter table "jobs" alter column "updated_at" set default now(), alter column "updated_at" set not null;`);
    this.addSql(`alter table "jobs" add constraint "jobs_trigger_kind_check" check ("trigger_kind" in ('USER', 'API_KEY', 'SCHEDULE', 'OPERATOR', 'SYSTEM'));`);
    this.addSql(`alter table "jobs" add constraint "jobs_failure_type_check" check ("failure_type" in ('CONFIG', 'TRANSIENT', 'RATE_LIMITED', 'INTERNAL'));`);
    this.addSql(`alter table "jobs" add constraint "jobs_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`drop index "jobs_account_id_index";`);
    this.addSql(`create index "jobs_account_created_idx" on "jobs" ("account_id", "created_at", "id");`);
    this.addSql(`create index "jobs_source_created_idx" on "jobs" ("source_id", "created_at", "id");`);
    this.addSql(`create unique index "jobs_one_active_backup_per_source" on "jobs" ("source_id") where kind = 'BACKUP' and status in ('QUEUED', 'RUNNING');`);
    this.addSql(`create table "job_logs" ("id" bigserial primary key, "job_id" uuid not null, "account_id" uuid not null, "at" timestamptz not null, "level" text not null default 'INFO', "message" text not null, "attempt" int not null default 0);`);
    this.addSql(`create index "job_logs_job_id_idx" on "job_logs" ("job_id", "id");`);
    this.addSql(`alter table "job_logs" add constraint "job_logs_level_check" check ("level" in ('INFO', 'WARN', 'ERROR'));`);
  }
}
