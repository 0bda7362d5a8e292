/**
 * The definition of a generic REST/JSON API, as a user writes it when connecting one: a base URL,
 * how to authenticate, and per resource the path, where the items are (a JSON pointer), which
 * field is the id, the pagination style (cursor, page number, `Link`, or none) and optionally an
 * incremental filter and how to write items back (`restore`). The platforms subgraph checks it
 * when the connection is made; the jobs connector runs it.
 */
import { z } from 'zod';

const pointer = z.string().regex(/^(\/.*)?$/, 'must be a JSON pointer ("" or starting with /)');

const paginationSchema = z.discriminatedUnion('style', [
  z.object({ style: z.literal('none') }),
  z.object({
    style: z.literal('cursor'),
    /** Query parameter that carries the cursor. */
    cursorParam: z.string().default('cursor'),
    /** Where the answer names the next cursor; without it, the last item's id is the cursor (`starting_after`). */
    nextCursor: pointer.optional(),
    /** Where the answer says there is more; without it, a next cursor means more. */
    hasMore: pointer.optional(),
    limitParam: z.string().default('limit'),
    limit: z.number().int().positive().max(10_000).default(100),
  }),
  z.object({
    style: z.literal('page'),
    pageParam: z.string().default('page'),
    sizeParam: z.string().default('per_page'),
    size: z.number().int().positive().max(10_000).default(100),
    startPage: z.number().int().min(0).default(1),
    /** Where the answer names the number of pages; without it, a short page is the last. */
    totalPages: pointer.optional(),
  }),
  z.object({ style: z.literal('link'), sizeParam: z.string().optional(), size: z.number().int().positive().optional() }),
]);

const resourceSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _'),
  path: z.string().min(1),
  query: z.record(z.string(), z.string()).optional(),
  /** Where the list is in the answer; "" when the answer is the list. */
  items: pointer.default(''),
  /** Where each item's id is. */
  idField: pointer.default('/id'),
  pagination: paginationSchema.default({ style: 'none' }),
  /** `param=<newest value of field seen last run>` asks for changed items only (an inclusive filter). */
  incremental: z.object({ param: z.string().min(1), field: pointer }).optional(),
  /** How an item is written back. `{id}` in the path is replaced by the item's id. */
  restore: z
    .object({
      method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
      path: z.string().min(1),
      /** Sent with a key derived from the item, so a retried write is not applied twice; null when the API has none. */
      idempotencyHeader: z.string().nullable().default('Idempotency-Key'),
    })
    .optional(),
});

export const restDefinitionSchema = z.object({
  name: z.string().min(1).default('REST API'),
  baseUrl: z.url({ protocol: /^https?$/ }),
  auth: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('bearer') }),
      z.object({ type: z.literal('header'), name: z.string().min(1), prefix: z.string().default('') }),
      z.object({ type: z.literal('basic') }),
      z.object({ type: z.literal('none') }),
    ])
    .default({ type: 'bearer' }),
  headers: z.record(z.string(), z.string()).optional(),
  resources: z.array(resourceSchema).min(1),
});
export type RestDefinition = z.input<typeof restDefinitionSchema>;
export type ParsedRestDefinition = z.output<typeof restDefinitionSchema>;
export type RestResourceSpec = z.output<typeof resourceSchema>;

export class RestDefinitionError extends Error {}

/** The definition, checked and with its defaults filled in; RestDefinitionError names every problem. */
export function parseRestDefinition(input: unknown): ParsedRestDefinition {
  const parsed = restDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    throw new RestDefinitionError(`The API definition is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(definition)'}: ${i.message}`).join('; ')}`);
  }
  const definition = parsed.data;
  const names = definition.resources.map((r) => r.name);
  if (new Set(names).size !== names.length) throw new RestDefinitionError('The API definition names a resource twice');
  for (const r of definition.resources) {
    if (r.pagination.style === 'cursor' && !r.pagination.nextCursor && !r.pagination.hasMore) {
      throw new RestDefinitionError(`The API definition: ${r.name} uses cursor pagination but names neither nextCursor nor hasMore`);
    }
  }
  return definition;
}

/** The headers that carry `secret` the way the definition says. */
export function restAuthHeaders(definition: ParsedRestDefinition, secret: string): Record<string, string> {
  const auth = definition.auth;
  if (auth.type === 'none') return {};
  if (auth.type === 'header') return { [auth.name.toLowerCase()]: `${auth.prefix}${secret}` };
  if (auth.type === 'basic') return { authorization: `Basic ${Buffer.from(secret.includes(':') ? secret : `${secret}:`).toString('base64')}` };
  return { authorization: `Bearer ${secret}` };
}

/** A resource's URL: its path relative to the base URL (which is treated as a directory). */
export function restResourceUrl(definition: ParsedRestDefinition, resource: RestResourceSpec): URL {
  const base = new URL(definition.baseUrl.endsWith('/') ? definition.baseUrl : `${definition.baseUrl}/`);
  const url = new URL(resource.path, base);
  for (const [name, value] of Object.entries(resource.query ?? {})) url.searchParams.set(name, value);
  return url;
}
