import { Migration } from '@mikro-orm/migrations';

export class Migration0007PlanLimits extends Migration {
  override up(): void {
    // The defaults only fill the rows already there; the catalogue sets the real values at start.
    this.addSql(`alter table "plans" add "storage_overage" boolean not null default true, add "limits" jsonb not null default '{}';`);
    this.addSql(`alter table "plans" alter column "storage_overage" drop default, alter column "limits" drop default;`);
    this.addSql(
      `create table "plan_usage_items" ("kind" text not null, "item_id" uuid not null, "account_id" uuid not null, "live" boolean not null, "backup_interval_minutes" int null, "retention_days" int null, "changed_at" timestamptz not null, primary key ("kind", "item_id"));`,
    );
    this.addSql(`create index "plan_usage_items_account_id_kind_index" on "plan_usage_items" ("account_id", "kind");`);
    this.addSql(`alter table "plan_usage_items" add constraint "plan_usage_items_kind_check" check ("kind" in ('SOURCE', 'CONNECTION', 'MEMBER', 'API_KEY'));`);
  }
}
