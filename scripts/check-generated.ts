// Fails when the committed supergraph, the generated resolver types or docs/platforms.md are stale.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE } from '@listbackup/lib/supergraph';
import { SUBGRAPHS } from '@listbackup/lib/subgraphs';
import { PLATFORMS_DOC_FILE, platformsDoc } from '@listbackup/catalogue/platforms-doc';

const problems: string[] = [];
if (readFileSync(SUPERGRAPH_FILE, 'utf8') !== composeSupergraph()) {
  problems.push('schema/supergraph.graphql differs from a fresh composition: run `npm run compose`.');
}
if (!existsSync(PLATFORMS_DOC_FILE) || readFileSync(PLATFORMS_DOC_FILE, 'utf8') !== platformsDoc()) {
  problems.push(`${PLATFORMS_DOC_FILE} differs from the catalogue: run \`npm run docs:platforms\`.`);
}

const files = SUBGRAPHS.map(({ name }) => `subgraphs/${name}/src/generated/resolvers.ts`);
const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const before = files.map(read);
execFileSync('npx', ['graphql-codegen', '--config', 'codegen.yml', '--silent'], { stdio: 'inherit' });
files.forEach((file, i) => {
  if (read(file) !== before[i]) problems.push(`${file} was stale (regenerated now): run \`npm run codegen\`.`);
});

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('supergraph, generated resolver types and docs/platforms.md are up to date');
