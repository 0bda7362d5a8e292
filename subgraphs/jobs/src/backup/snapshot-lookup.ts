import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import { AppError, NotFoundError } from '@listbackup/lib/errors';

/** A snapshot as its catalogue (the sources subgraph) shows it to the caller. */
export interface SnapshotRef {
  id: string;
  accountId: string;
  sourceId: string;
  /** The backup job that made it: also the engine's snapshot id. */
  jobId: string;
}

/**
 * Asks the sources subgraph about a snapshot *as the caller*: sources runs its own authorization,
 * so a snapshot of another tenant is "not found" here exactly as it is there.
 */
export class SnapshotLookup {
  readonly #graphqlUrl: string;
  readonly #secret: string;

  constructor(sourcesUrl: string, internalTokenSecret: string) {
    this.#graphqlUrl = new URL('/graphql', sourcesUrl).toString();
    this.#secret = internalTokenSecret;
  }

  async get(principal: Principal, id: string, requestId: string): Promise<SnapshotRef> {
    const token = await signInternalToken(this.#secret, 'sources', { principal, requestId });
    const response = await fetch(this.#graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': requestId },
      body: JSON.stringify({ query: 'query ($id: ID!) { snapshot(id: $id) { id account { id } source { id } job { id } } }', variables: { id } }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`sources answered HTTP ${response.status}`);
    const body = (await response.json()) as { data?: { snapshot?: any }; errors?: { message: string; extensions?: { code?: string } }[] };
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code === 'NOT_FOUND' || code === 'BAD_USER_INPUT') throw new NotFoundError('Snapshot');
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') throw new AppError(code, error.message);
      throw new Error(`sources: ${error.message}`);
    }
    const snapshot = body.data?.snapshot;
    if (!snapshot) throw new NotFoundError('Snapshot');
    return { id: snapshot.id, accountId: snapshot.account.id, sourceId: snapshot.source.id, jobId: snapshot.job.id };
  }
}
