import { Migration } from '@mikro-orm/migrations';

export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql(`create table "accounts" ("id" uuid not null, "name" varchar(255) not null, "parent_id" uuid null, "path" text[] not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "accounts_parent_id_index" on "accounts" ("parent_id");`);
    this.addSql(`create index "accounts_path_index" on "accounts" ("path");`);
    this.addSql(`create table "api_keys" ("id" uuid not null, "account_id" uuid not null, "name" varchar(255) not null, "prefix" varchar(255) not null, "secret_hash" varchar(255) not null, "scopes" text[] not null, "created_by" uuid null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "api_keys_account_id_index" on "api_keys" ("account_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_secret_hash_unique" unique ("secret_hash");`);
    this.addSql(`create table "login_throttles" ("key" varchar(255) not null, "failures" int not null default 0, "last_failure_at" timestamptz not null, "blocked_until" timestamptz null, primary key ("key"));`);
    this.addSql(`create table "memberships" ("id" uuid not null, "account_id" uuid not null, "user_id" uuid null, "email" varchar(255) not null, "role" text not null, "invited_by" uuid null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "memberships_account_id_index" on "memberships" ("account_id");`);
    this.addSql(`create index "memberships_user_id_index" on "memberships" ("user_id");`);
    this.addSql(`create index "memberships_email_index" on "memberships" ("email");`);
    this.addSql(`alter table "memberships" add constraint "memberships_account_id_email_unique" unique ("account_id", "email");`);
    this.addSql(`alter table "memberships" add constraint "memberships_role_check" check ("role" in ('owner', 'admin', 'operator', 'viewer'));`);
    this.addSql(`create table "recovery_codes" ("id" uuid not null, "user_id" uuid not null, "code_hash" varchar(255) not null, "used_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);
    this.addSql(`create table "sessions" ("id" uuid not null, "user_id" uuid not null, "refresh_token_hash" varchar(255) not null, "rotated_token_hashes" text[] not null default '{}', "created_at" timestamptz not null, "last_refreshed_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_reason" varchar(255) null, "user_agent" varchar(255) null, "ip" varchar(255) null, primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(`alter table "sessions" add constraint "sessions_refresh_token_hash_unique" unique ("refresh_token_hash");`);
    this.addSql(`create table "signing_keys" ("kid" varchar(255) not null, "public_jwk" jsonb not null, "private_jwk" jsonb not null, "created_at" timestamptz not null, "retired_at" timestamptz null, primary key ("kid"));`);
    this.addSql(`create table "users" ("id" uuid not null, "email" varchar(255) not null, "name" varchar(255) not null, "password_hash" varchar(255) not null, "totp_secret" varchar(255) null, "totp_enabled_at" timestamptz null, "totp_last_step" bigint null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
  }
}
