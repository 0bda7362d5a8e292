import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE } from '@listbackup/lib/supergraph';

try {
  writeFileSync(SUPERGRAPH_FILE, composeSupergraph());
  console.log('schema/supergraph.graphql composed');
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
