import { AppError } from '@listbackup/lib/errors';
import { internalClient, type Caller, type ServiceClient } from '@listbackup/lib/internal-client';

export interface ConnectionInfo {
  id: string;
  accountId: string;
  status: string;
  platform: { id: string; slug: string };
  /** What a source on it can back up (for a REST API, what its definition names). */
  resources: { name: string; incremental: boolean }[];
}

const CONNECTION = `query($id: ID!) { connection(id: $id) { id status account { id } platform { id slug } resources { name incremental } } }`;

/**
 * Reads connections through the platforms subgraph's GraphQL API, as the caller (their principal
 * in the internal token), so platforms applies its own authorization. Sources never reads its tables.
 */
export class PlatformsClient {
  readonly #platforms: ServiceClient;

  /** `url`: any URL of the platforms subgraph. */
  constructor(url: string, internalTokenSecret: string) {
    this.#platforms = internalClient(internalTokenSecret).service('platforms', url);
  }

  /** The connection, or null when it does not exist or the caller cannot see it. */
  async getConnection(caller: Caller, id: string): Promise<ConnectionInfo | null> {
    const body = await this.#platforms.graphql<{
      connection?: { id: string; status: string; account: { id: string }; platform: ConnectionInfo['platform']; resources: ConnectionInfo['resources'] } | null;
    }>(caller, CONNECTION, { id });
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code === 'NOT_FOUND') return null;
      if (code === 'FORBIDDEN' || code === 'UNAUTHENTICATED') throw new AppError(code, error.message);
      throw new Error(`platforms connection lookup failed: ${code ?? 'unknown'} ${error.message}`);
    }
    const connection = body.data?.connection;
    if (!connection) return null;
    return { id: connection.id, accountId: connection.account.id, status: connection.status, platform: connection.platform, resources: connection.resources };
  }
}
