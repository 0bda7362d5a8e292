import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, limitRules } from '../src/limits.ts';
import { graphql } from '../src/subscriptions/graphql.ts';

// The depth rule on its own, on a schema shaped like the product's: a connection's wrappers add no
// level, fragments are followed, and no document makes the check itself costly.
const schema = graphql.buildSchema(`
  type Query { me: User, node(id: ID!): Named }
  interface Named { name: String }
  type User implements Named { name: String, friends(first: Int, after: String): UserConnection!, best: User }
  type UserConnection { edges: [UserEdge!]!, pageInfo: PageInfo!, totalCount: Int! }
  type UserEdge { cursor: String!, node: User! }
  type PageInfo { hasNextPage: Boolean!, endCursor: String }
`);

const depthErrors = (query: string, maxDepth = 4) =>
  graphql
    .validate(schema, graphql.parse(query), limitRules({ ...DEFAULT_QUERY_LIMITS, maxDepth }))
    .filter((error) => error.extensions.code === 'QUERY_DEPTH_LIMIT')
    .map((error) => error.message);

describe('the depth limit', () => {
  it('counts fields, not the edges, node and pageInfo of a connection', () => {
    expect(depthErrors('{ me { best { best { name } } } }')).toEqual([]);
    expect(depthErrors('{ me { friends { totalCount pageInfo { hasNextPage } edges { cursor node { friends { edges { node { name } } } } } } } }')).toEqual([]);
    expect(depthErrors('{ me { best { best { best { name } } } } }')).toEqual(['Query depth limit of 4 exceeded, found 5.']);
    expect(depthErrors('{ me { friends { edges { node { friends { edges { node { best { name } } } } } } } } }')).toEqual(['Query depth limit of 4 exceeded, found 5.']);
  });

  it('counts fields named like wrappers outside a connection', () => {
    const query = '{ node(id: "1") { ... on User { best { best { best { name } } } } } }';
    expect(depthErrors(query)).toEqual(['Query depth limit of 4 exceeded, found 5.']);
  });

  it('follows named and inline fragments without a level of their own', () => {
    expect(depthErrors('{ me { ...F } } fragment F on User { best { best { name } } }')).toEqual([]);
    expect(depthErrors('{ me { ...F } } fragment F on User { best { ... on User { best { best { name } } } } }')).toEqual(['Query depth limit of 4 exceeded, found 5.']);
    expect(depthErrors('{ me { ...F } } fragment F on User { friends { edges { node { ...G } } } } fragment G on User { best { best { name } } }')).toEqual([
      'Query depth limit of 4 exceeded, found 5.',
    ]);
  });

  it('takes each fragment once however often it is spread, and stops at a cycle', () => {
    // Thirty fragments each spreading the next twice: a billion paths if every spread were walked again.
    const fragments = Array.from({ length: 30 }, (_, i) => `fragment F${i} on User { name ${i < 29 ? `best { ...F${i + 1} } friends { edges { node { ...F${i + 1} } } }` : ''} }`);
    expect(depthErrors(`{ me { ...F0 } } ${fragments.join(' ')}`, 40)).toEqual([]);
    expect(depthErrors(`{ me { ...F0 } } ${fragments.join(' ')}`, 30)).toEqual(['Query depth limit of 30 exceeded, found 31.']);
    expect(depthErrors('{ me { ...A } } fragment A on User { best { ...B } } fragment B on User { best { ...A } }')).toEqual([]);
  });

  it('leaves introspection to its own switch', () => {
    expect(depthErrors('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }')).toEqual([]);
  });
});
