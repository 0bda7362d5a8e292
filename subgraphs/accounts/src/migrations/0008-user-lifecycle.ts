import { Migration } from '@mikro-orm/migrations';

/** Profile, verified addresses and one-time tokens (email verification, password reset, email change). */
export class Migration0008UserLifecycle extends Migration {
  override up(): void {
    this.addSql(`alter table "users" add column "email_verified_at" timestamptz null, add column "avatar_url" text null, add column "time_zone" text null, add column "locale" text null, add column "default_schedule_time_zone" text null;`);
    this.addSql(`create table "user_tokens" ("id" uuid not null, "user_id" uuid not null, "purpose" text not null check ("purpose" in ('VERIFY_EMAIL', 'RESET_PASSWORD')), "token_hash" text not null, "email" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "user_tokens" add constraint "user_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "user_tokens_user_id_index" on "user_tokens" ("user_id");`);
  }
}
