import { Migration } from '@mikro-orm/migrations';

/** Notifications: rules, preferences, endpoints, the in-app list, deliveries and their attempts. */
export class Migration0007Notifications extends Migration {
  override up(): void {
    const events = `('JOB_FAILED', 'JOB_RECOVERED', 'JOB_PARTIALLY_SUCCEEDED', 'CONNECTION_FAILED', 'QUOTA_WARNING', 'QUOTA_REACHED', 'ANOMALY_DETECTED', 'ENDPOINT_DISABLED')`;
    this.addSql(`create table "notifications" ("id" uuid not null, "account_id" uuid not null, "event_id" uuid not null, "event" text not null check ("event" in ${events}), "title" text not null, "body" text not null, "payload" jsonb not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "notifications_account_id_index" on "notifications" ("account_id");`);
    this.addSql(`alter table "notifications" add constraint "notifications_event_id_unique" unique ("event_id");`);
    this.addSql(`create table "notification_inbox" ("id" uuid not null, "notification_id" uuid not null, "user_id" uuid not null, "account_id" uuid not null, "created_at" timestamptz not null, "read_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "notification_inbox" add constraint "notification_inbox_notification_user_unique" unique ("notification_id", "user_id");`);
    this.addSql(`create index "notification_inbox_user_created_index" on "notification_inbox" ("user_id", "created_at");`);
    this.addSql(`create table "notification_rules" ("account_id" uuid not null, "event" text not null check ("event" in ${events}), "email" boolean not null, "in_app" boolean not null, primary key ("account_id", "event"));`);
    this.addSql(`create table "notification_preferences" ("user_id" uuid not null, "event" text not null check ("event" in ${events}), "email" boolean not null, "in_app" boolean not null, primary key ("user_id", "event"));`);
    this.addSql(`create table "notification_source_outcomes" ("source_id" uuid not null, "account_id" uuid not null, "failed" boolean not null, "at" timestamptz not null, primary key ("source_id"));`);
    this.addSql(`create table "notification_endpoints" ("id" uuid not null, "account_id" uuid not null, "kind" text not null check ("kind" in ('WEBHOOK', 'SLACK')), "name" text not null, "url" text not null, "events" text[] not null, "secret" text null, "previous_secret" text null, "previous_secret_until" timestamptz null, "enabled" boolean not null default true, "disabled_at" timestamptz null, "disabled_reason" text null, "consecutive_failures" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "notification_endpoints_account_id_index" on "notification_endpoints" ("account_id");`);
    this.addSql(`create table "notification_deliveries" ("id" uuid not null, "notification_id" uuid null, "subject" text null, "text" text null, "account_id" uuid not null, "channel" text not null check ("channel" in ('EMAIL', 'WEBHOOK', 'SLACK')), "endpoint_id" uuid null, "user_id" uuid null, "recipient" text not null, "status" text not null check ("status" in ('PENDING', 'RETRYING', 'DELIVERED', 'DEAD')), "attempts" int not null default 0, "next_attempt_at" timestamptz null, "locked_until" timestamptz null, "last_response_code" int null, "last_error" text null, "delivered_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "notification_deliveries_notification_id_index" on "notification_deliveries" ("notification_id");`);
    this.addSql(`create index "notification_deliveries_account_id_index" on "notification_deliveries" ("account_id");`);
    this.addSql(`create index "notification_deliveries_endpoint_id_index" on "notification_deliveries" ("endpoint_id");`);
    this.addSql(`create index "notification_deliveries_due_index" on "notification_deliveries" ("next_attempt_at") where "status" in ('PENDING', 'RETRYING');`);
    this.addSql(`create table "notification_delivery_attempts" ("id" uuid not null, "delivery_id" uuid not null, "account_id" uuid not null, "endpoint_id" uuid null, "attempted_at" timestamptz not null, "succeeded" boolean not null, "response_code" int null, "latency_ms" int not null, "error" text null, primary key ("id"));`);
    this.addSql(`create index "notification_delivery_attempts_delivery_id_index" on "notification_delivery_attempts" ("delivery_id");`);
    this.addSql(`create index "notification_delivery_attempts_endpoint_index" on "notification_delivery_attempts" ("endpoint_id", "attempted_at");`);
  }
}
