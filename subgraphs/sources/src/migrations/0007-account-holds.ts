import { Migration } from '@mikro-orm/migrations';

/** Accounts whose schedules are held (suspended or deleted), kept from accounts' events. */
export class Migration0007AccountHolds extends Migration {
  override up(): void {
    this.addSql(
      `create table "account_holds" ("account_id" uuid not null, "reason" text not null, "since" timestamptz not null, primary key ("account_id", "reason"));`,
    );
  }
}
