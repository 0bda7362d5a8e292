// Prints what MikroORM would still change after the migrations: `npx node subgraphs/jobs/test/support/schema-diff.ts <subgraph>`.
import { openDatabase } from '@listbackup/lib/db';
import { createTestDatabase } from './subgraph-harness.ts';

const sub = process.argv[2] ?? 'jobs';
const { database } = await import(`../../../${sub}/src/database.ts`);
const db = await createTestDatabase();
try {
  const orm = await openDatabase({ url: db.url, ...database });
  console.log((await orm.schema.getUpdateSchemaSQL()).trim() || '(no difference)');
  await orm.close();
} finally {
  await db.drop();
}
