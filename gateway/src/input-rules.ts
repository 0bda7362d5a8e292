import type { ValidationRule, ValueNode } from 'graphql';
import { graphql } from './subscriptions/graphql.ts';

const { GraphQLError } = graphql;

/**
 * A number literal no double can hold (`1e400`, a 400-digit integer) is refused at the edge. graphql
 * reads `Float` literals with `parseFloat`, so it would be Infinity, which the query planner cannot
 * write back into a subgraph's query and which no argument means. (Variables are safe: JSON's
 * Infinity fails graphql's own coercion.)
 */
export const finiteNumbersRule: ValidationRule = (context) => {
  const check = (node: ValueNode & { value: string }) => {
    if (Number.isFinite(Number(node.value))) return;
    const shown = node.value.length > 24 ? `${node.value.slice(0, 24)}…` : node.value;
    context.reportError(
      new GraphQLError(`The number ${shown} is out of range`, { nodes: node, extensions: { code: 'BAD_USER_INPUT', reason: 'NUMBER_OUT_OF_RANGE' } }),
    );
  };
  return { FloatValue: check, IntValue: check };
};
