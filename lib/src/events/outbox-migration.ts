import { Migration } from '@mikro-orm/migrations';
import { outboxActorSql, outboxTablesSql, outboxTraceSql } from './outbox.ts';

/** Creates the outbox and processed-events tables in the schema of the subgraph that lists it. */
export class OutboxMigration extends Migration {
  override up(): void {
    for (const statement of outboxTablesSql()) this.addSql(statement);
  }
}

/** Adds the envelope's `actor` to the outbox; listed after `OutboxMigration`. */
export class OutboxActorMigration extends Migration {
  override up(): void {
    for (const statement of outboxActorSql()) this.addSql(statement);
  }
}

/** Adds the envelope's `traceparent` to the outbox; listed after `OutboxActorMigration`. */
export class OutboxTraceMigration extends Migration {
  override up(): void {
    for (const statement of outboxTraceSql()) this.addSql(statement);
  }
}
