import { Migration } from '@mikro-orm/migrations';

/** An account's first page of connections stays one index range however many it has. */
export class Migration0005ConnectionPages extends Migration {
  override up(): void {
    this.addSql("create index \"connections_account_created_idx\" on \"connections\" (\"account_id\", \"created_at\", \"id\");");
  }
}
