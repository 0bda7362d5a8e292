import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '@listbackup/lib/config';
import { LimitError } from './limits.ts';
import { graphql } from './subscriptions/graphql.ts';

const { stripIgnoredCharacters } = graphql;

/** One operation of a request, as it arrives (a JSON body, a GET's parameters or a websocket subscribe payload). */
export interface OperationRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

/** Apollo Router's codes, so clients built for it read these refusals as it does. */
export const TRUSTED_DOCUMENT_CODES = {
  /** A document id that names no registered document (HTTP 404). */
  notInList: 'PERSISTED_QUERY_NOT_IN_LIST',
  /** A document sent as text that is not registered (HTTP 403). */
  notTrusted: 'QUERY_NOT_IN_SAFELIST',
  /** Both an id and a text (HTTP 400). */
  idAndBody: 'CANNOT_SEND_PQ_ID_AND_BODY',
} as const;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The manifest as `npm run trusted-documents` writes it: the sha256 (lower-case hex) of each document's text, to that text. */
const FlatManifest = z.record(z.string(), z.string());
/** Apollo's persisted query manifest (@apollo/generate-persisted-query-manifest, Apollo Router). */
const ApolloManifest = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(z.object({ id: z.string(), body: z.string() }).loose()),
});

/**
 * The documents a deployment trusts (TRUSTED_DOCUMENTS): with them, the gateway runs only these,
 * named by hash or sent as text. The conventions are Apollo Router's and Hive Router's: a request
 * names its document by `documentId` (GraphQL over HTTP's persisted documents, `sha256:<hex>`), else
 * by `extensions.persistedQuery.sha256Hash` (Apollo Client's persisted queries); the refusals carry
 * Apollo Router's codes and statuses (docs/limits.md).
 */
export class TrustedDocuments {
  readonly #byHash: ReadonlyMap<string, string>;
  /** The registered texts without ignored characters, so a registered document sent as text matches however it is spaced. */
  readonly #stripped: ReadonlySet<string>;

  constructor(documents: ReadonlyMap<string, string>) {
    this.#byHash = documents;
    this.#stripped = new Set([...documents.values()].map((text) => stripIgnoredCharacters(text)));
  }

  /** Reads and checks a manifest; every problem is listed, and a key that is not its document's sha256 is one. */
  static load(path: string): TrustedDocuments {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new ConfigError(`TRUSTED_DOCUMENTS: cannot read ${path} as JSON (${(error as Error).message})`);
    }
    const apollo = ApolloManifest.safeParse(json);
    const flat = FlatManifest.safeParse(json);
    let entries: [string, string][];
    if (apollo.success) entries = apollo.data.operations.map((operation) => [operation.id, operation.body]);
    else if (flat.success && !(json as { format?: unknown }).format) entries = Object.entries(flat.data);
    else throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} is neither an object of sha256 → document nor an Apollo persisted query manifest`);

    const problems: string[] = [];
    for (const [hash, text] of entries) {
      if (!SHA256_HEX.test(hash)) problems.push(`"${hash.slice(0, 80)}" is not a lower-case hex sha256`);
      else if (sha256Hex(text) !== hash) problems.push(`${hash} is not the sha256 of its document`);
      else {
        try {
          graphql.parse(text, { noLocation: true });
        } catch (error) {
          problems.push(`${hash} does not parse: ${(error as Error).message}`);
        }
      }
    }
    if (!entries.length) problems.push('it registers no document');
    if (problems.length) throw new ConfigError(`TRUSTED_DOCUMENTS: ${path}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    return new TrustedDocuments(new Map(entries));
  }

  get size(): number {
    return this.#byHash.size;
  }

  /**
   * The operation to run instead of the one received: the registered text in `query`, the hash
   * parameters removed. A refusal is a LimitError whose status and code say why.
   */
  resolve<T extends OperationRequest>(operation: T): T | LimitError {
    const { documentId, extensions, ...rest } = operation;
    const persistedQuery = isObject(extensions) ? extensions.persistedQuery : undefined;
    const otherExtensions = isObject(extensions) ? Object.fromEntries(Object.entries(extensions).filter(([key]) => key !== 'persistedQuery')) : extensions;
    const query = typeof operation.query === 'string' && operation.query !== '' ? operation.query : undefined;

    let id: string | undefined;
    if (documentId !== undefined && documentId !== null && documentId !== '') {
      if (typeof documentId !== 'string') return new LimitError('BAD_REQUEST', '"documentId" must be a string such as "sha256:<64 hex digits>"');
      id = documentId.startsWith('sha256:') ? documentId.slice('sha256:'.length) : documentId;
    } else if (persistedQuery !== undefined) {
      const hash = isObject(persistedQuery) ? persistedQuery.sha256Hash : undefined;
      if (typeof hash !== 'string' || (isObject(persistedQuery) && persistedQuery.version !== 1)) {
        return new LimitError('BAD_REQUEST', '"extensions.persistedQuery" must be { "version": 1, "sha256Hash": "<64 hex digits>" }');
      }
      id = hash;
    }

    if (id !== undefined) {
      if (query !== undefined) return new LimitError(TRUSTED_DOCUMENT_CODES.idAndBody, 'Send either a document id or the document, not both', 400);
      const text = this.#byHash.get(id);
      if (text === undefined) return new LimitError(TRUSTED_DOCUMENT_CODES.notInList, 'No trusted document has this id; this gateway runs only the documents registered with it', 404);
      return { ...rest, query: text, ...withExtensions(otherExtensions) } as T;
    }
    if (query === undefined) return operation;
    if (!this.#trustsText(query)) return new LimitError(TRUSTED_DOCUMENT_CODES.notTrusted, 'This gateway runs only trusted documents, and this one is not registered', 403);
    return { ...rest, query, ...withExtensions(otherExtensions) } as T;
  }

  #trustsText(query: string): boolean {
    if (this.#byHash.has(sha256Hex(query))) return true;
    try {
      return this.#stripped.has(stripIgnoredCharacters(query));
    } catch {
      return false;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withExtensions(extensions: unknown): { extensions?: unknown } {
  if (extensions === undefined || (isObject(extensions) && Object.keys(extensions).length === 0)) return {};
  return { extensions };
}

/** The environment variable that turns the mode on (gateway/src/main.ts, scripts/start.ts). */
export const trustedDocumentsEnv = { TRUSTED_DOCUMENTS: z.string().optional() };

export function trustedDocumentsFromEnv(config: { TRUSTED_DOCUMENTS?: string }): TrustedDocuments | undefined {
  return config.TRUSTED_DOCUMENTS ? TrustedDocuments.load(config.TRUSTED_DOCUMENTS) : undefined;
}
