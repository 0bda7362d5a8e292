import { Migration } from '@mikro-orm/migrations';

export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql(`create table "outbox_events" ("id" uuid not null, "type" text not null, "account_id" text not null, "subject" text not null, "data" jsonb not null, "time" timestamptz not null, "created_at" timestamptz not null, "sent_at" timestamptz null, "attempts" int not null default 0, "last_error" text null, primary key ("id"));`);
    this.addSql(`create index "outbox_events_unsent_idx" on "outbox_events" ("created_at") where sent_at is null;`);
    this.addSql(`create table "plans" ("id" uuid not null, "code" text not null, "name" text not null, "included_storage_bytes" bigint not null, "monthly_price_cents" int not null, primary key ("id"));`);
    this.addSql(`alter table "plans" add constraint "plans_code_unique" unique ("code");`);
    this.addSql(`create table "plan_subscriptions" ("id" uuid not null, "account_id" uuid not null, "plan_id" uuid not null, "status" text not null default 'ACTIVE', "started_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "plan_subscriptions" add constraint "plan_subscriptions_account_id_unique" unique ("account_id");`);
    this.addSql(`create index "plan_subscriptions_plan_id_index" on "plan_subscriptions" ("plan_id");`);
    this.addSql(`alter table "plan_subscriptions" add constraint "plan_subscriptions_status_check" check ("status" in ('ACTIVE', 'PAST_DUE', 'CANCELLED'));`);
    this.addSql(`create table "processed_events" ("consumer" text not null, "event_id" uuid not null, "processed_at" timestamptz not null, primary key ("consumer", "event_id"));`);
  }
}
