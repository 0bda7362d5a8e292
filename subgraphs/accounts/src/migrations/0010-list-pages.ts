import { Migration } from '@mikro-orm/migrations';

/** An account's first page of members, or of sub-accounts, stays one index range however many it has. */
export class Migration0010ListPages extends Migration {
  override up(): void {
    this.addSql('create index "memberships_account_created_idx" on "memberships" ("account_id", "created_at", "id");');
    this.addSql('create index "accounts_parent_name_idx" on "accounts" ("parent_id", "name", "id");');
  }
}
