/**
 * Operations generated from the supergraph for the fuzz test: every root field, its arguments from
 * their types with hostile values (huge and non-finite numbers, NUL, lone surrogates, bidirectional
 * overrides, long strings, forged ids and cursors), sent as literals or as variables, and a
 * selection of its result a few levels deep, within the gateway's query limits.
 */
import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

/** A value as it is written in the document, where JSON cannot carry it (1e400, an enum value). */
interface Literal {
  literal: string;
}
type Value = null | boolean | number | string | Literal | Value[] | { [key: string]: Value };

export interface Known {
  /** Ids that exist, the caller's and other tenants' (a fuzz should reach past "not found"). */
  ids: string[];
}

export interface FuzzOperation {
  query: string;
  variables: Record<string, unknown>;
}

const base64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const hostileText = fc.oneof(
  fc.constantFrom('', ' ', 'Backup', 'a\u0000b', '\u0000', '\ud800', 'x\udc00y', 'invoice\u202Efdp.exe', '\u2066x\u2069', 'e\u0301', '\u0007\u001b[31m', 'line\nbreak', '💾', "'; drop table x; --", '../../etc/passwd', '%00', '<script>', 'null', '-1', '1e400', 'http://169.254.169.254/latest/meta-data', 'a@b.co'),
  fc.string({ maxLength: 24, unit: 'binary' }),
  fc.constantFrom('x'.repeat(5_000), 'é'.repeat(300), `${'a'.repeat(64)}@example.com`),
);

const forgedCursor = fc.oneof(
  fc.constantFrom(base64(Array.from({ length: 1_000 }, (_, i) => i)), base64('123'), base64([]), base64([null, null]), base64(['2026-01-01T00:00:00Z', 'not-a-uuid']), base64({ a: 1 }), base64('x'.repeat(2_000)), '!!!', '', '=='),
  fc.tuple(fc.date({ noInvalidDate: true }), fc.uuid()).map(([date, id]) => base64([date.toISOString(), id])),
  fc.tuple(fc.string({ maxLength: 8 }), fc.uuid()).map(([name, id]) => base64([name, id])),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }).map(base64),
);

const int = fc.oneof(fc.constantFrom(0, 1, -1, -5, 20, 100, 101, 100_000, 2_147_483_647, -2_147_483_648), fc.integer(), fc.constantFrom<Literal>({ literal: '99999999999999999999' }, { literal: '1e400' }));
const float = fc.oneof(
  fc.constantFrom(0, -0, 0.5, 1, 1.5, -1, 2, 1e-300, 5e-324, 1e308, -1e308, 1.7976931348623157e308),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom<Literal>({ literal: '1e400' }, { literal: '-1e400' }, { literal: '1e-400' }),
);
const dateTime = fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), fc.constantFrom('2026-02-30T00:00:00Z', '0000-00-00', '+275760-09-13T00:00:00.000Z', 'yesterday', '', '1e400'));
const day = fc.oneof(fc.constantFrom('2026-02-30', '2026-13-01', '0000-01-01', '9999-12-31', '2026-01-01', 'today', ''), fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)));

function idArbitrary(known: Known) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known.ids) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom('', '0', 'not-an-id', '00000000-0000-0000-0000-000000000000', `${known.ids[0]}'`, '\u0000', '\ud800', 'x'.repeat(1_000)) },
  );
}

/** A value for an argument or input field, by its type (and its name, for cursors and ids). */
function valueFor(type: GraphQLInputType, name: string, known: Known, depth: number): fc.Arbitrary<Value> {
  if (isNonNullType(type)) {
    // Now and then a null where the schema says it may not be: validation must say so.
    return fc.oneof({ weight: 19, arbitrary: valueFor(type.ofType, name, known, depth) }, { weight: 1, arbitrary: fc.constant(null) });
  }
  const inner = (): fc.Arbitrary<Value> => {
    if (isListType(type)) return depth > 3 ? fc.constant([]) : fc.array(valueFor(type.ofType, name, known, depth + 1), { maxLength: 3 });
    if (isEnumType(type)) return fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...type.getValues().map((value) => ({ literal: value.name }))) }, { weight: 1, arbitrary: fc.constant<Literal>({ literal: 'NOT_A_VALUE' }) });
    if (isInputObjectType(type)) {
      if (depth > 3) return fc.constant({});
      const fields = Object.values(type.getFields());
      return fc.record(Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, field.name, known, depth + 1)])), {
        requiredKeys: fields.filter((field) => isNonNullType(field.type) && field.defaultValue === undefined).map((field) => field.name),
      }) as fc.Arbitrary<Value>;
    }
    if (name === 'after' || name === 'before' || name === 'cursor') return forgedCursor;
    switch (isScalarType(type) ? type.name : '') {
      case 'ID':
        return idArbitrary(known);
      case 'Int':
        return int;
      case 'Float':
        return float;
      case 'Boolean':
        return fc.boolean();
      case 'DateTime':
        return dateTime;
      case 'Date':
        return day;
      case 'JSON':
        return fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Value>;
      default:
        return /id$/i.test(name) ? idArbitrary(known) : hostileText;
    }
  };
  return fc.oneof({ weight: 9, arbitrary: inner() }, { weight: 1, arbitrary: fc.constant(null) });
}

function printLiteral(value: Value): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(printLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    if ('literal' in value && typeof value.literal === 'string' && Object.keys(value).length === 1) return value.literal;
    return `{ ${Object.entries(value)
      .map(([key, field]) => `${key}: ${printLiteral(field as Value)}`)
      .join(', ')} }`;
  }
  // GraphQL's string escapes are JSON's (a lone surrogate, escaped, is the parser's to refuse).
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Whether a value can travel as a JSON variable (1e400 and enum names are literals only). */
function jsonable(value: Value): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(jsonable);
  if ('literal' in value && Object.keys(value).length === 1) return /^[A-Za-z_]\w*$/.test(String(value.literal));
  return Object.values(value).every((field) => jsonable(field as Value));
}

/** Enum literals become their names in JSON; numeric literals stay out of variables. */
function toJson(value: Value): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toJson);
  if ('literal' in value && Object.keys(value).length === 1) return value.literal;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, toJson(field as Value)]));
}

function typeName(type: GraphQLInputType): string {
  return String(type);
}

/** A selection of an output type: scalars, and objects a few levels down without required arguments. */
function selectionOf(type: GraphQLOutputType, depth: number): fc.Arbitrary<string> {
  const named = getNamedType(type);
  if (isLeafType(named)) return fc.constant('');
  if (!isObjectType(named) || depth >= 3) return fc.constant('{ __typename }');
  const fields = Object.values((named as GraphQLObjectType).getFields()).filter((field) => field.args.every((arg) => !isNonNullType(arg.type) || arg.defaultValue !== undefined));
  const leaves = fields.filter((field) => isLeafType(getNamedType(field.type))).map((field) => field.name);
  const objects = fields.filter((field) => !isLeafType(getNamedType(field.type)));
  const nested = objects.length
    ? fc.subarray(objects, { maxLength: Math.min(2, objects.length) }).chain((chosen) => (chosen.length ? fc.tuple(...chosen.map((field) => selectionOf(field.type, depth + 1).map((sub) => `${field.name} ${sub}`))) : fc.constant([] as string[])))
    : fc.constant([] as string[]);
  return fc.tuple(fc.subarray(leaves, { maxLength: Math.min(4, leaves.length) }), nested).map(([scalars, objectsSelected]) => `{ __typename ${[...scalars, ...objectsSelected].join(' ')} }`);
}

function fieldCall(field: GraphQLField<unknown, unknown>, known: Known, index: number) {
  const args = field.args.map((arg) =>
    fc.record({ value: valueFor(arg.type, arg.name, known, 0), asVariable: fc.boolean(), omitted: fc.boolean() }).map((chosen) => ({ arg, ...chosen })),
  );
  return fc.tuple(fc.tuple(...args), selectionOf(field.type, 1)).map(([chosen, selection]) => {
    const variables: Record<string, unknown> = {};
    const declarations: string[] = [];
    const written: string[] = [];
    for (const { arg, value, asVariable, omitted } of chosen) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      if (omitted && !required) continue;
      if (asVariable && jsonable(value)) {
        const variable = `v${index}_${arg.name}`;
        declarations.push(`$${variable}: ${typeName(arg.type)}`);
        variables[variable] = toJson(value);
        written.push(`${arg.name}: $${variable}`);
      } else {
        written.push(`${arg.name}: ${printLiteral(value)}`);
      }
    }
    return { text: `f${index}: ${field.name}${written.length ? `(${written.join(', ')})` : ''} ${selection}`, declarations, variables };
  });
}

/** An operation of one to three root fields of Query or Mutation (each aliased), with its variables. */
export function operations(schema: GraphQLSchema, known: Known): fc.Arbitrary<FuzzOperation> {
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const;
  const choices = roots.flatMap(([kind, root]) => (root ? Object.values(root.getFields()).map((field) => ({ kind, field })) : []));
  return fc
    .constantFrom(...choices)
    .chain(({ kind }) =>
      fc.array(fc.constantFrom(...choices.filter((choice) => choice.kind === kind)), { minLength: 1, maxLength: 3 }).map((picked) => ({ kind, picked })),
    )
    .chain(({ kind, picked }) =>
      fc.tuple(...picked.map(({ field }, index) => fieldCall(field, known, index))).map((calls) => {
        const declarations = calls.flatMap((call) => call.declarations);
        return {
          query: `${kind}${declarations.length ? ` (${declarations.join(', ')})` : ''} { ${calls.map((call) => call.text).join(' ')} }`,
          variables: Object.assign({}, ...calls.map((call) => call.variables)),
        };
      }),
    );
}

/** Every root field of Query and Mutation, to check that a run reached each one. */
export function rootFields(schema: GraphQLSchema): string[] {
  return [schema.getQueryType(), schema.getMutationType()].flatMap((root) => (root ? Object.keys(root.getFields()) : []));
}

