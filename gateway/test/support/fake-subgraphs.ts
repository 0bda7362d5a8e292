import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import pino from 'pino';
import type { Orm } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import { startSubgraph, type RunningSubgraph, type SubgraphContext } from '@listbackup/lib/subgraph';
import type { AccessResolver } from '@listbackup/lib/access';

/**
 * Two tiny subgraphs on the real subgraph server of the shared kit (so the real internal-token
 * check guards them), without a database: `alpha` owns Item and reports what it was told about the
 * caller, `beta` adds Item.price through `_entities`.
 */
const alphaSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Caller { kind: String!, userId: String, apiKeyId: String, requestId: String!, clientIp: String }
  type Item @key(fields: "id") { id: ID!, name: String! }
  type Query { whoami: Caller!, item(id: ID!): Item!, items(count: Int!): [Item!]!, broken: String }
`;
const betaSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type BetaCaller { kind: String!, userId: String, apiKeyId: String, requestId: String!, clientIp: String }
  type Item @key(fields: "id") { id: ID!, price: Int!, seenBy: BetaCaller! }
`;

export function fakeSupergraph(): string {
  const result = composeServices([
    { name: 'alpha', url: 'http://alpha.invalid/graphql', typeDefs: parse(alphaSdl) },
    { name: 'beta', url: 'http://beta.invalid/graphql', typeDefs: parse(betaSdl) },
  ]);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

function caller(ctx: SubgraphContext) {
  const principal = ctx.principal;
  return {
    kind: principal.kind,
    userId: principal.kind === 'user' ? principal.userId : null,
    apiKeyId: principal.kind === 'apiKey' ? principal.apiKeyId : null,
    requestId: ctx.requestId,
    clientIp: ctx.clientIp ?? null,
  };
}

const noDatabase = { checkConnection: async () => ({ ok: true }), em: { fork: () => ({}) } } as unknown as Orm;
const noAccess: AccessResolver = { rolesOn: async (_principal, ids) => ids.map(() => null), visibleAccounts: async () => [] };

export interface FakeSubgraphs {
  urls: { alpha: string; beta: string };
  alpha: RunningSubgraph;
  beta: RunningSubgraph;
  close(): Promise<void>;
}

export async function startFakeSubgraphs(internalTokenSecret: string): Promise<FakeSubgraphs> {
  const log = pino({ level: 'silent' });
  const common = { orm: noDatabase, access: noAccess, internalTokenSecret, log, extendContext: (base: SubgraphContext) => base };
  const alpha = await startSubgraph(
    {
      ...common,
      name: 'alpha',
      typeDefs: alphaSdl,
      resolvers: {
        Query: {
          whoami: (_: unknown, __: unknown, ctx: SubgraphContext) => caller(ctx),
          item: (_: unknown, { id }: { id: string }) => {
            if (id === 'missing') throw new NotFoundError('Item');
            return { id, name: `item ${id}` };
          },
          items: (_: unknown, { count }: { count: number }) => Array.from({ length: count }, (_v, i) => ({ id: String(i), name: `item ${i}` })),
          broken: () => {
            throw new Error('connection string postgres://secret@db leaked?');
          },
        },
        Item: { __resolveReference: ({ id }: { id: string }) => ({ id, name: `item ${id}` }) },
      },
    },
    0,
  );
  const beta = await startSubgraph(
    {
      ...common,
      name: 'beta',
      typeDefs: betaSdl,
      resolvers: {
        Item: {
          __resolveReference: ({ id }: { id: string }, ctx: SubgraphContext) => ({ id, price: Number(id) * 100, seenBy: caller(ctx) }),
        },
      },
    },
    0,
  );
  return {
    urls: { alpha: alpha.url, beta: beta.url },
    alpha,
    beta,
    async close() {
      await Promise.allSettled([alpha.close(), beta.close()]);
    },
  };
}
