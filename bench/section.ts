import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Replaces a benchmark's section of docs/benchmarks.md (from its `## ` title to the next), or appends it. */
export function writeSection(section: string): void {
  const file = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const title = section.slice(0, section.indexOf('\n'));
  const start = current.indexOf(title);
  let next: string;
  if (start < 0) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const after = current.indexOf('\n## ', start + 1);
    next = `${current.slice(0, start)}${section}${after < 0 ? '' : `\n${current.slice(after + 1)}`}`;
  }
  writeFileSync(file, `${next.trimEnd()}\n`);
  console.log(`written to ${file}`);
}
