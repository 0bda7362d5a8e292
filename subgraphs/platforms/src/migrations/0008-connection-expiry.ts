import { Migration } from '@mikro-orm/migrations';

/** When a connection's credential expires, since when its refresh fails, and which of these was announced. */
export class Migration0008ConnectionExpiry extends Migration {
  override up(): void {
    this.addSql('alter table "connections" add "credential_expires_at" timestamptz null, add "refresh_failing_since" timestamptz null, add "expiry_notice" text null;');
  }
}
