import { Migration } from '@mikro-orm/migrations';

/** A user's first page of memberships stays one index range however many they hold. */
export class Migration0011UserMembershipPages extends Migration {
  override up(): void {
    this.addSql('create index "memberships_user_created_idx" on "memberships" ("user_id", "created_at", "id");');
  }
}
