import { Migration } from '@mikro-orm/migrations';

/** Account lifecycle: suspension (by billing or an operator) and deletion with a recovery window before the purge. */
export class Migration0009AccountLifecycle extends Migration {
  override up(): void {
    this.addSql(
      `alter table "accounts" add column "suspended_at" timestamptz null, add column "suspended_by" text null check ("suspended_by" in ('billing', 'operator')), add column "suspended_reason" text null, add column "deleted_at" timestamptz null, add column "deleted_by" uuid null, add column "purge_after" timestamptz null;`,
    );
    this.addSql(`create index "accounts_purge_after_index" on "accounts" ("purge_after") where "purge_after" is not null;`);
  }
}
