import { Migration } from '@mikro-orm/migrations';

export class Migration0004PlanChanges extends Migration {
  override up(): void {
    this.addSql(`create table "plan_changes" ("id" uuid not null, "account_id" uuid not null, "from_plan_id" uuid not null, "to_plan_id" uuid not null, "changed_at" timestamptz not null, "period_end" timestamptz not null, "proration_cents" int not null, "trial_ends_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "plan_changes_account_id_changed_at_index" on "plan_changes" ("account_id", "changed_at");`);
    // The defaults only fill the rows already there; the catalogue sets the real values at start.
    this.addSql(`alter table "plans" add "extra_gb_month_price_cents" int not null default 0, add "trial_days" int null, add "audit_log_retention_days" int not null default 90;`);
    this.addSql(`alter table "plans" alter column "extra_gb_month_price_cents" drop default, alter column "audit_log_retention_days" drop default;`);
    this.addSql(`alter table "plan_subscriptions" add "trial_ends_at" timestamptz null;`);
  }
}
