// `npm run bench`: every benchmark, one after the other (they would skew each other side by side).
// Each writes its own section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process';

const benchmarks = ['bench/backup.ts', 'bench/index-memory.ts', 'bench/fanout.ts', 'bench/requests.ts', 'bench/connectors.ts'];
const only = process.argv.slice(2);
let failed = false;
for (const file of benchmarks.filter((file) => !only.length || only.some((name) => file.includes(name)))) {
  console.error(`\n== ${file}`);
  const result = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${file} failed (exit ${result.status ?? result.signal})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
