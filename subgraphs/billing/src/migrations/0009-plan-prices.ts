import { Migration } from '@mikro-orm/migrations';

/** Each plan's prices per currency. The default only fills the rows already there; the catalogue sets the real prices at start. */
export class Migration0009PlanPrices extends Migration {
  override up(): void {
    this.addSql(`alter table "plans" add "prices" jsonb not null default '{}';`);
    this.addSql(`alter table "plans" alter column "prices" drop default;`);
  }
}
