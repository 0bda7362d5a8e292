import { internalClient, type Caller, type ServiceClient } from '@listbackup/lib/internal-client';
import { AppError, NotFoundError } from '@listbackup/lib/errors';

/** A snapshot as its catalogue (the sources subgraph) shows it to the caller. */
export interface SnapshotRef {
  id: string;
  accountId: string;
  sourceId: string;
  sourceName: string;
  /** The source's connection, where a PLATFORM restore writes unless it names another. */
  connectionId: string;
  /** The source was deleted (its snapshots were kept): nothing can be restored to its platform through it. */
  sourceDeleted: boolean;
  /** The backup job that made it: also the engine's snapshot id. */
  jobId: string;
}

/**
 * Asks the sources subgraph about a snapshot *as the caller*: sources runs its own authorization,
 * so a snapshot of another tenant is "not found" here exactly as it is there.
 */
const SNAPSHOT = 'query ($id: ID!) { snapshot(id: $id) { id account { id } source { id name deletedAt connection { id } } job { id } } }';

export class SnapshotLookup {
  readonly #sources: ServiceClient;

  constructor(sourcesUrl: string, internalTokenSecret: string) {
    this.#sources = internalClient(internalTokenSecret).service('sources', sourcesUrl);
  }

  /** `caller`: the request's (its principal, request id and client IP go along). */
  async get(caller: Caller, id: string): Promise<SnapshotRef> {
    const body = await this.#sources.graphql<{ snapshot?: any }>(caller, SNAPSHOT, { id });
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code === 'NOT_FOUND' || code === 'BAD_USER_INPUT') throw new NotFoundError('Snapshot');
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') throw new AppError(code, error.message);
      throw new Error(`sources: ${error.message}`);
    }
    const snapshot = body.data?.snapshot;
    if (!snapshot) throw new NotFoundError('Snapshot');
    return {
      id: snapshot.id,
      accountId: snapshot.account.id,
      sourceId: snapshot.source.id,
      sourceName: snapshot.source.name,
      connectionId: snapshot.source.connection.id,
      sourceDeleted: snapshot.source.deletedAt != null,
      jobId: snapshot.job.id,
    };
  }
}
