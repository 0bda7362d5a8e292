// Comments and docs that name a file of the repository name one that exists: a reader who follows
// a reference finds it (a comment once cited a design document that is not in the repository).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', '.git', '.data', 'generated', 'coverage']);

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|md)$/.test(name)) yield path;
  }
}

/** Comment lines of a TypeScript file, or the lines of a Markdown file outside code blocks. */
function prose(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (!path.endsWith('.md')) return lines.filter((line) => /^\s*(\/\/|\/?\*)/.test(line));
  let fenced = false;
  return lines.filter((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    return !fenced;
  });
}

/** The file's directory and each directory above it: a comment may name a path from its package's root. */
function bases(path: string): string[] {
  const found: string[] = [];
  for (let dir = dirname(path); dir.startsWith(root); dir = dirname(dir)) found.push(dir);
  return found;
}

const REFERENCE = /(?<![\w@:/.-])((?:\.{1,2}\/)?(?:[\w-]+\/)*[\w.-]+\.(?:md|ts|graphql|yml|json))(?![\w/])/g;

describe('references to files of the repository', () => {
  it('every file a comment or a document names exists', () => {
    const missing: string[] = [];
    for (const path of files(root)) {
      for (const line of prose(path)) {
        for (const [, reference] of line.matchAll(REFERENCE)) {
          if (!reference.includes('/') && !/^[A-Z]+\.md$/.test(reference)) continue; // a bare name (index.ts) is not a path
          if (/^(https?|[\w-]+\.(com|org|io|dev))/.test(reference)) continue;
          if (!bases(path).some((base) => existsSync(join(base, reference)))) missing.push(`${relative(root, path)}: ${reference}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
