import { AppError } from '@listbackup/lib/errors';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';

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
  readonly #url: string;
  readonly #secret: string;

  /** `url`: the platforms subgraph's /graphql endpoint. */
  constructor(url: string, secret: string) {
    this.#url = url;
    this.#secret = secret;
  }

  /** The connection, or null when it does not exist or the caller cannot see it. */
  async getConnection(caller: { principal: Principal; requestId: string }, id: string): Promise<ConnectionInfo | null> {
    const token = await signInternalToken(this.#secret, 'platforms', { principal: caller.principal, requestId: caller.requestId });
    const response = await fetch(this.#url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token },
      body: JSON.stringify({ query: CONNECTION, variables: { id } }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok && response.status !== 400) throw new Error(`platforms answered HTTP ${response.status}`);
    const body = (await response.json()) as {
      data?: { connection?: { id: string; status: string; account: { id: string }; platform: ConnectionInfo['platform']; resources: ConnectionInfo['resources'] } | null } | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
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
