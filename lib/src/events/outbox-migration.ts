import { Migration } from '@mikro-orm/migrations';
import { outboxMigrationSql } from './outbox.ts';

/** Creates the outbox and processed-events tables in the schema of the subgraph that lists it. */
export class OutboxMigration extends Migration {
  override up(): void {
    for (const statement of outboxMigrationSql()) this.addSql(statement);
  }
}
