/**
 * Writes the manifest of trusted documents (TRUSTED_DOCUMENTS, docs/limits.md): the product's own
 * operations — every ```graphql block of the README and the example the IDEs open with — and the
 * documents of any files named (a .graphql or .gql file is one document; a .md file gives its
 * ```graphql blocks). Each document must validate against the committed supergraph.
 *
 *   npm run trusted-documents -- [--out trusted-documents.json] [client documents…]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { printSchema, Supergraph } from '@apollo/federation-internals';
import { buildSchema, parse, validate } from 'graphql';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { EXAMPLE_OPERATION } from '../gateway/src/ide/shared.ts';
import { sha256Hex } from '../gateway/src/trusted-documents.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: 'trusted-documents.json' } } });

/** The ```graphql blocks of a Markdown text, as written (the README's examples run as they stand). */
const markdownBlocks = (text: string) => [...text.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]);

const sources: { from: string; text: string }[] = [
  ...markdownBlocks(readFileSync(path.join(root, 'README.md'), 'utf8')).map((text) => ({ from: 'README.md', text })),
  { from: 'the IDEs’ example', text: EXAMPLE_OPERATION },
];
for (const file of positionals) {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.md')) sources.push(...markdownBlocks(text).map((block) => ({ from: file, text: block })));
  else sources.push({ from: file, text });
}

const schema = buildSchema(printSchema(Supergraph.build(readSupergraph()).apiSchema()));
const manifest: Record<string, string> = {};
const problems: string[] = [];
for (const { from, text } of sources) {
  try {
    const errors = validate(schema, parse(text));
    if (errors.length) problems.push(`${from}: ${errors.map((error) => error.message).join('; ')}`);
  } catch (error) {
    problems.push(`${from}: ${(error as Error).message}`);
  }
  manifest[sha256Hex(text)] = text;
}
if (problems.length) {
  console.error(`Not written: these documents do not validate against the supergraph:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  process.exit(1);
}
writeFileSync(values.out, `${JSON.stringify(manifest, null, 2)}\n`);
console.error(`${Object.keys(manifest).length} trusted documents written to ${values.out}`);
