import { Migration } from '@mikro-orm/migrations';

/** A GIN index on `sessions.rotated_token_hashes`, so detecting a reused refresh token is an index look-up. */
export class Migration0004IdentitySessionReuseIndex extends Migration {
  override up(): void {
    this.addSql(`create index "sessions_rotated_token_hashes_gin_index" on "sessions" using gin ("rotated_token_hashes");`);
  }
}
