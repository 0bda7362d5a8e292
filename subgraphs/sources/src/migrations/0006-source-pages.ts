import { Migration } from '@mikro-orm/migrations';

/** An account's first page of sources by name stays one index range however many it has. */
export class Migration0006SourcePages extends Migration {
  override up(): void {
    this.addSql("create index \"sources_account_name_idx\" on \"sources\" (\"account_id\", \"name\", \"id\") where deleted_at is null;");
  }
}
