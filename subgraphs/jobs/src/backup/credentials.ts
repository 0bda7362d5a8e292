import { createHash } from 'node:crypto';
import { internalClient, readJsonBody, systemCaller, type InternalResponse, type ServiceClient } from '@listbackup/lib/internal-client';
import type { Credentials } from '@listbackup/catalogue/sdk';
import { JobFailure } from '../worker/errors.ts';

/** What a worker gets for a connection: the platform it is on and what the connector needs. */
export interface ConnectionCredentials {
  platform: string;
  credentials: Credentials;
  /** The connection's definition, for connectors configured per connection (`rest`). */
  definition?: unknown;
  /** The connection's API root, when it has one of its own (Shopify's shop, Salesforce's instance). */
  apiRoot?: string;
}

export interface CredentialsProvider {
  /**
   * Throws a JobFailure: AUTH when the connection must be authorized again, CONFIG when it is gone
   * or unusable otherwise, TRANSIENT when trying later may help.
   */
  get(accountId: string, connectionId: string, options?: { forceRefresh?: boolean; requestId?: string }): Promise<ConnectionCredentials>;
  /** The platform refused `credentials` even after a refresh: the connection is to be authorized again. */
  refused?(accountId: string, connectionId: string, credentials: Credentials, message: string, options?: { requestId?: string }): Promise<void>;
}

/** Reads credentials from the platforms subgraph (`POST /internal/connections/credentials`). */
export class PlatformsCredentials implements CredentialsProvider {
  readonly #platforms: ServiceClient;

  constructor(platformsUrl: string, internalTokenSecret: string) {
    this.#platforms = internalClient(internalTokenSecret).service('platforms', platformsUrl);
  }

  async get(accountId: string, connectionId: string, options: { forceRefresh?: boolean; requestId?: string } = {}): Promise<ConnectionCredentials> {
    let response: InternalResponse;
    try {
      // Not retried here: a refresh may have rotated the platform's token; the job's own retry asks again.
      response = await this.#platforms.request({
        method: 'POST',
        path: '/internal/connections/credentials',
        caller: systemCaller(options.requestId ?? 'jobs-worker'),
        json: { accountId, connectionId, forceRefresh: options.forceRefresh ?? false },
        timeoutMs: 30_000,
      });
    } catch (cause) {
      throw new JobFailure('TRANSIENT', 'The connection’s credentials could not be read right now', { cause });
    }
    const body = ((await readJsonBody(response)) ?? {}) as Record<string, any>;
    if (response.status === 404) throw new JobFailure('CONFIG', 'The source’s connection no longer exists');
    if (response.status === 409) throw new JobFailure(body.transient ? 'TRANSIENT' : body.reauthorize ? 'AUTH' : 'CONFIG', String(body.message ?? 'The connection cannot be used'));
    if (response.status !== 200) throw new JobFailure('TRANSIENT', `Reading the connection’s credentials failed (HTTP ${response.status})`);
    const credentials: Credentials = {};
    if (typeof body.apiKey === 'string') {
      // A database connection stores its connection string as its key.
      if (/^postgres(ql)?:\/\//.test(body.apiKey)) credentials.connectionString = body.apiKey;
      else credentials.apiKey = body.apiKey;
    }
    if (typeof body.accessToken === 'string') credentials.accessToken = body.accessToken;
    return {
      platform: String(body.platform),
      credentials,
      ...(body.definition !== undefined ? { definition: body.definition } : {}),
      ...(typeof body.apiRoot === 'string' ? { apiRoot: body.apiRoot } : {}),
    };
  }

  async refused(accountId: string, connectionId: string, credentials: Credentials, message: string, options: { requestId?: string } = {}): Promise<void> {
    const held = credentials.accessToken ?? credentials.apiKey ?? credentials.connectionString;
    if (!held) return;
    const response = await this.#platforms.request({
      method: 'POST',
      path: '/internal/connections/credentials-refused',
      caller: systemCaller(options.requestId ?? 'jobs-worker'),
      json: { accountId, connectionId, fingerprint: createHash('sha256').update(held).digest('hex'), message: message.slice(0, 2000) },
      timeoutMs: 30_000,
    });
    await readJsonBody(response);
    if (response.status !== 200 && response.status !== 404) throw new Error(`Marking the connection as refused failed (HTTP ${response.status})`);
  }
}

/** Fixed credentials per connection: for tests and tools that run connectors without the platforms subgraph. */
export class StaticCredentials implements CredentialsProvider {
  readonly #byConnection: Map<string, ConnectionCredentials | (() => ConnectionCredentials)>;
  constructor(byConnection: Record<string, ConnectionCredentials | (() => ConnectionCredentials)>) {
    this.#byConnection = new Map(Object.entries(byConnection));
  }
  set(connectionId: string, value: ConnectionCredentials | (() => ConnectionCredentials)): void {
    this.#byConnection.set(connectionId, value);
  }
  async get(_accountId: string, connectionId: string): Promise<ConnectionCredentials> {
    const found = this.#byConnection.get(connectionId);
    if (!found) throw new JobFailure('CONFIG', 'The source’s connection no longer exists');
    return typeof found === 'function' ? found() : found;
  }
}

/** Credentials from the first provider that knows the connection. */
export class FallbackCredentials implements CredentialsProvider {
  readonly #providers: CredentialsProvider[];
  constructor(...providers: CredentialsProvider[]) {
    this.#providers = providers;
  }
  async get(accountId: string, connectionId: string, options?: { forceRefresh?: boolean; requestId?: string }): Promise<ConnectionCredentials> {
    let last: unknown;
    for (const provider of this.#providers) {
      try {
        return await provider.get(accountId, connectionId, options);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }
  async refused(accountId: string, connectionId: string, credentials: Credentials, message: string, options?: { requestId?: string }): Promise<void> {
    for (const provider of this.#providers) await provider.refused?.(accountId, connectionId, credentials, message, options);
  }
}
