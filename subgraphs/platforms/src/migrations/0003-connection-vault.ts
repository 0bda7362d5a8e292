import { Migration } from '@mikro-orm/migrations';

/** Connection lifecycle columns, the catalogue's registry metadata, and the credential vault table. */
export class Migration0003ConnectionVault extends Migration {
  override up(): void {
    this.addSql(`alter table "platforms" add column "description" text null, add column "auth_types" text[] null, add column "spec" jsonb null;`);
    this.addSql(
      `alter table "connections" add column "auth_type" text null, add column "updated_at" timestamptz null, add column "params" jsonb null, add column "scopes" text[] null, ` +
        `add column "external_account_id" text null, add column "external_account_name" text null, add column "last_error" text null, add column "last_error_code" text null, ` +
        `add column "last_error_at" timestamptz null, add column "authorized_at" timestamptz null, add column "revoked_at" timestamptz null, add column "last_tested_at" timestamptz null, ` +
        `add column "access_token_expires_at" timestamptz null, add column "pending_state_hash" text null, add column "pending_state_expires_at" timestamptz null;`,
    );
    this.addSql(`alter table "connections" add constraint "connections_auth_type_check" check ("auth_type" in ('OAUTH2', 'API_KEY'));`);
    this.addSql(`create table "connection_secrets" ("connection_id" uuid not null, "account_id" uuid not null, "kek_id" text not null, "wrapped_key" bytea not null, "credentials" bytea null, "pkce_verifier" bytea null, "created_at" timestamptz not null, "updated_at" timestamptz null, "rewrapped_at" timestamptz null, primary key ("connection_id"));`);
  }
}
