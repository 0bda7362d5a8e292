import { Kind, type DirectiveNode, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';

/** An entity's state keyed by schema field names, with `__typename` on objects where it is known. */
export type State = Record<string, unknown>;

export interface Projection {
  /** The selection answered from the state, keyed by response names (aliases). */
  data: Record<string, unknown>;
  /** False when some selected field is not in the state: the rest must come from the subgraph. */
  complete: boolean;
}

/**
 * Answers a selection set from what an event says about an entity, the way a subgraph would: aliases,
 * fragments, @skip/@include. Whatever the state does not hold is left out and reported as incomplete.
 */
export function project(
  selectionSet: SelectionSetNode,
  state: State,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): Projection {
  let complete = true;
  const walk = (set: SelectionSetNode, value: State, out: Record<string, unknown>): void => {
    for (const selection of set.selections) {
      if (!included(selection.directives, variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const name = selection.name.value;
        if (selection.arguments?.length) {
          complete = false; // fields with arguments are never carried by events
          continue;
        }
        if (!(name in value) || value[name] === undefined) {
          complete = false;
          continue;
        }
        const fieldValue = value[name];
        if (!selection.selectionSet) {
          if (isLeaf(fieldValue)) out[key] = fieldValue;
          else complete = false;
        } else if (fieldValue === null) {
          out[key] = null;
        } else {
          const nested = sub(selection.selectionSet, fieldValue, out[key]);
          if (nested !== undefined) out[key] = nested;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition?.name.value;
        if (condition && typeof value.__typename === 'string' && value.__typename !== condition) continue;
        walk(selection.selectionSet, value, out);
      } else {
        const fragment = fragments[selection.name.value];
        if (!fragment) {
          complete = false;
          continue;
        }
        const condition = fragment.typeCondition.name.value;
        if (typeof value.__typename === 'string' && value.__typename !== condition) continue;
        walk(fragment.selectionSet, value, out);
      }
    }
  };
  const sub = (set: SelectionSetNode, fieldValue: unknown, existing: unknown): unknown => {
    if (Array.isArray(fieldValue)) {
      return fieldValue.map((item, index) => (item === null ? null : sub(set, item, Array.isArray(existing) ? existing[index] : undefined)));
    }
    if (!isPlainObject(fieldValue)) {
      complete = false;
      return undefined;
    }
    const target = isPlainObject(existing) ? existing : {};
    walk(set, fieldValue, target);
    return target;
  };
  const data: Record<string, unknown> = {};
  walk(selectionSet, state, data);
  return { data, complete };
}

/** Writes `over` onto `base`, recursing into objects: what the event says wins over what was read. */
export function mergeOver(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = mergeOver(base[key], value);
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Array.isArray(value) && value.every((item) => item === null || typeof item !== 'object');
}

function included(directives: readonly DirectiveNode[] | undefined, variables: Record<string, unknown>): boolean {
  if (!directives?.length) return true;
  for (const directive of directives) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const argument = directive.arguments?.find((arg) => arg.name.value === 'if');
    const value = argument ? literal(argument.value, variables) : undefined;
    if (name === 'skip' && value === true) return false;
    if (name === 'include' && value !== true) return false;
  }
  return true;
}

function literal(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.BOOLEAN) return node.value;
  return undefined;
}
