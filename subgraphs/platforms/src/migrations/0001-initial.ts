import { Migration } from '@mikro-orm/migrations';

export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql(`create table "connections" ("id" uuid not null, "account_id" uuid not null, "platform_id" uuid not null, "name" text not null, "status" text not null default 'PENDING', "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "connections_account_id_index" on "connections" ("account_id");`);
    this.addSql(`alter table "connections" add constraint "connections_status_check" check ("status" in ('PENDING', 'AUTHORIZED', 'FAILED', 'EXPIRED', 'REVOKED'));`);
    this.addSql(`create table "platforms" ("id" uuid not null, "slug" text not null, "name" text not null, "category" text not null, primary key ("id"));`);
    this.addSql(`alter table "platforms" add constraint "platforms_slug_unique" unique ("slug");`);
    this.addSql(`alter table "platforms" add constraint "platforms_category_check" check ("category" in ('PAYMENTS', 'COMMERCE', 'CRM', 'ACCOUNTING', 'DEVELOPER', 'FILES', 'COMMUNICATION', 'PRODUCTIVITY', 'SUPPORT', 'MARKETING', 'DATABASE', 'OTHER'));`);
  }
}
