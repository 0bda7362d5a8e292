import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log. A trigger makes `audit_entries` append-only for every database user, the
 * superuser included: no update ever, no truncate, and a delete only inside a transaction that
 * set `listbackup.audit_retention` (the retention pass, which moves the chain's anchor forward).
 */
export class Migration0006AuditLog extends Migration {
  override up(): void {
    this.addSql(`create table "audit_entries" ("id" uuid not null, "account_id" uuid not null, "sequence" bigint not null, "event_id" uuid not null, "action" text not null, "actor_kind" text not null, "actor_id" text null, "actor_ip" text null, "actor_user_agent" text null, "target_type" text null, "target_id" text null, "before" jsonb null, "after" jsonb null, "details" jsonb not null, "occurred_at" timestamptz not null, "recorded_at" timestamptz not null, "previous_hash" text not null, "hash" text not null, primary key ("id"));`);
    this.addSql(`alter table "audit_entries" add constraint "audit_entries_event_id_unique" unique ("event_id");`);
    this.addSql(`alter table "audit_entries" add constraint "audit_entries_account_sequence_unique" unique ("account_id", "sequence");`);
    this.addSql(`create table "audit_chains" ("account_id" uuid not null, "sequence" bigint not null default 0, "hash" text not null, "pruned_through" bigint not null default 0, "pruned_hash" text not null, "retention_days" int null, primary key ("account_id"));`);
    this.addSql(`create function "audit_entries_append_only"() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('listbackup.audit_retention', true) = 'on' then
          return old;
        end if;
        raise exception 'audit entries are append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end
    $$;`);
    this.addSql(`create trigger "audit_entries_append_only" before update or delete on "audit_entries" for each row execute function "audit_entries_append_only"();`);
    this.addSql(`create trigger "audit_entries_no_truncate" before truncate on "audit_entries" for each statement execute function "audit_entries_append_only"();`);
  }
}
