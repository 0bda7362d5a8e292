import { Migration } from '@mikro-orm/migrations';

export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql(`create table "sources" ("id" uuid not null, "account_id" uuid not null, "connection_id" uuid not null, "name" text not null, "resources" text[] not null, "paused" boolean not null default false, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "sources_account_id_index" on "sources" ("account_id");`);
    this.addSql(`create index "sources_connection_id_index" on "sources" ("connection_id");`);
  }
}
