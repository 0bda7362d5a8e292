// `npm run migration:create -- <subgraph> <name>`: writes the SQL that brings the subgraph's schema
// from its current migrations to its current entities as a new migration file. It works in a
// scratch database on DATABASE_URL's server (default: the local one) and changes nothing else.
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { openDatabase } from '@listbackup/lib/db';
import { SUBGRAPHS } from '@listbackup/lib/subgraphs';

const [subgraph, name] = process.argv.slice(2);
if (!SUBGRAPHS.some((known) => known.name === subgraph) || !name || !/^[a-z0-9-]+$/.test(name)) {
  console.error(`usage: npm run migration:create -- <${SUBGRAPHS.map((known) => known.name).join('|')}> <name-in-kebab-case>`);
  process.exit(2);
}

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const scratch = `lb_migration_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${scratch}`);
try {
  const url = new URL(server);
  url.pathname = `/${scratch}`;
  const { database } = await import(`../subgraphs/${subgraph}/src/database.ts`);
  const orm = await openDatabase({ url: url.toString(), ...database });
  const sql: string = await orm.schema.getUpdateSchemaSQL({ schema: database.schema, wrap: false });
  await orm.close();
  const statements = sql
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => line.replaceAll(`"${database.schema}".`, ''));
  if (!statements.length) {
    console.log(`${subgraph}: the migrations already match the entities; nothing to write.`);
  } else {
    const dir = new URL(`../subgraphs/${subgraph}/src/migrations/`, import.meta.url);
    const next = Math.max(0, ...readdirSync(dir).map((file) => Number.parseInt(file, 10)).filter(Number.isFinite)) + 1;
    const stem = `${String(next).padStart(4, '0')}-${name}`;
    const className = `Migration${stem.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}`;
    const body = statements.map((statement) => `    this.addSql(${JSON.stringify(statement)});`).join('\n');
    writeFileSync(
      new URL(`${stem}.ts`, dir),
      `import { Migration } from '@mikro-orm/migrations';\n\nexport class ${className} extends Migration {\n  override up(): void {\n${body}\n  }\n}\n`,
    );
    console.log(`wrote subgraphs/${subgraph}/src/migrations/${stem}.ts; register it in migrations/index.ts as { name: '${stem}', class: ${className} }`);
  }
} finally {
  await admin.query(`drop database if exists ${scratch} with (force)`);
  await admin.end();
}
