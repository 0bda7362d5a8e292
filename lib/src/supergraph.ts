import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './subgraphs.ts';

const schemaDir = new URL('../../schema/', import.meta.url);

export function subgraphSdl(name: string): string {
  return readFileSync(new URL(`${name}.graphql`, schemaDir), 'utf8');
}

export const SUPERGRAPH_FILE = new URL('supergraph.graphql', schemaDir);

export function readSupergraph(): string {
  return readFileSync(SUPERGRAPH_FILE, 'utf8');
}

/** Composes the committed subgraph SDLs; throws with every composition error. */
export function composeSupergraph(): string {
  const result = composeServices(
    SUBGRAPHS.map(({ name, port }) => ({ name, url: `http://127.0.0.1:${port}/graphql`, typeDefs: parse(subgraphSdl(name)) })),
  );
  if (result.errors) {
    throw new Error(`Composition failed:\n${result.errors.map((error) => `  - ${error.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}
