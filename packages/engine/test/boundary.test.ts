import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');
const sources = readdirSync(src).filter((name) => name.endsWith('.ts'));

function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|new URL\('([^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe('package boundary', () => {
  it('imports nothing of ListBackup: only its own files, Node and the S3 client', () => {
    const outside: string[] = [];
    for (const file of sources) {
      for (const specifier of importsOf(file)) {
        const own = specifier.startsWith('./') && !specifier.includes('..');
        if (!own && !specifier.startsWith('node:') && specifier !== '@aws-sdk/client-s3') outside.push(`${file}: ${specifier}`);
      }
    }
    expect(sources.length).toBeGreaterThan(10);
    expect(outside).toEqual([]);
  });

  it('keeps the shared envelope (imported by the credential vault) free of the rest of the engine', () => {
    expect(importsOf('envelope.ts').every((specifier) => specifier.startsWith('node:'))).toBe(true);
  });

  it('loads the AWS SDK only from the S3 store', () => {
    expect(sources.filter((file) => importsOf(file).includes('@aws-sdk/client-s3'))).toEqual(['store-s3.ts']);
  });
});
