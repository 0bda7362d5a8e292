import { AppError, NotFoundError } from './errors.ts';
import { isUuid } from './ids.ts';
import { internalClient, type Caller, type ServiceClient } from './internal-client.ts';

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
 * in the internal token), so platforms applies its own authorization. Sources (a source's
 * connection) and jobs (a restore's target) ask it before they write; neither reads platforms' tables.
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
    }>(caller, CONNECTION, { id }, { idempotent: true }); // a read: safe to send again when a replica restarts
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

  /** The connection if it is one of `accountId`'s that the caller sees; any other id is "not found", whether it exists or not. */
  async inAccount(caller: Caller, accountId: string, id: string): Promise<ConnectionInfo> {
    const connection = isUuid(id) ? await this.getConnection(caller, id) : null;
    if (!connection || connection.accountId !== accountId) throw new NotFoundError('Connection');
    return connection;
  }
}

/** Refuses a connection that cannot be used now (pending, failed, expired, revoked), before anything is written. */
export function assertAuthorized(connection: ConnectionInfo, before: string, field = 'connectionId'): void {
  if (connection.status === 'AUTHORIZED') return;
  throw new AppError('BAD_USER_INPUT', `The connection is ${connection.status.toLowerCase()}; reconnect it before ${before}`, {
    reason: 'CONNECTION_NOT_AUTHORIZED',
    field,
    status: connection.status,
  });
}
