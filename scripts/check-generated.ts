// Fails when the committed supergraph or the generated resolver types are stale.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE } from '@listbackup/lib/supergraph';
import { SUBGRAPHS } from '@listbackup/lib/subgraphs';

const problems: string[] = [];
if (readFileSync(SUPERGRAPH_FILE, 'utf8') !== composeSupergraph()) {
  problems.push('schema/supergraph.graphql differs from a fresh composition: run `npm run compose`.');
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
console.log('supergraph and generated resolver types are up to date');
