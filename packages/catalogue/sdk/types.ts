import type { Logger } from '@listbackup/lib/logger';
import type { z } from 'zod';
import type { HttpClient, HttpClientConfig } from './http.ts';

export type AuthType = 'oauth2' | 'apiKey' | 'database' | 'none';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Incremental state a connector hands back at the end of a run and receives at the next one. */
export type Cursor = JsonValue;

/** What the vault hands a connector; which field is set depends on the connector's auth type. */
export interface Credentials {
  accessToken?: string;
  apiKey?: string;
  connectionString?: string;
}

export interface ResourceDefinition {
  /** Stable name, stored in sources and snapshots. */
  name: string;
  /** What a user gets: shown in `Platform.resources`. */
  description: string;
  /** Whether a run given the previous cursor fetches only what changed. */
  incremental: boolean;
  /** How changes are found, when incremental (`since` on `updated_at`, the changes feed). */
  cursor?: string;
  /** Whether `restore` can write this resource back to the platform (default: when the connector has `restore`). */
  restorable?: boolean;
  /** Whether its items are files, streamed as bytes, rather than records. */
  binaryContent?: boolean;
}

/**
 * One thing to back up. `id` is the platform's stable key, unique within the resource; `path` is
 * the human-readable place it has in a snapshot (unique within a run: the runner suffixes
 * duplicates). `content` is called once per read and streams the bytes: nothing requires the
 * whole body in memory.
 */
export interface ConnectorItem {
  id: string;
  path: string;
  /** ISO 8601, when the platform says when the thing last changed. */
  updatedAt?: string;
  /**
   * An opaque value the platform gives that changes whenever the content changes (ETag, revision,
   * sha, md5Checksum, version, updated_at): the engine stores an item whose marker equals the one in
   * the previous snapshot without reading its content again. Leave it out when there is none.
   */
  changeMarker?: string;
  /** Bytes of content, when known before reading it. */
  size?: number;
  contentType?: string;
  /** JSON-serializable facts a snapshot browser shows and `restore` may need. */
  metadata: Record<string, unknown>;
  content: () => AsyncIterable<Uint8Array>;
}

/** An item read back from a snapshot, on its way to the platform. */
export interface RestoreItem {
  id: string;
  path: string;
  updatedAt?: string;
  size?: number;
  contentType?: string;
  metadata: Record<string, unknown>;
  content: () => AsyncIterable<Uint8Array>;
}

export interface RestoreResult {
  /** Items written to the platform. */
  restored: number;
  /** Rows, records or bytes written, in the connector's own unit. */
  units?: number;
}

export interface ConnectorContext<S = unknown> {
  /** The current credentials (refreshed ones once `refreshCredentials` has run). */
  credentials(): Promise<Credentials>;
  /** Asks the vault for fresh credentials (OAuth refresh); concurrent callers share one refresh. */
  refreshCredentials(): Promise<Credentials>;
  /** The source's settings for this connector, already validated by `settingsSchema`. */
  settings: S;
  signal: AbortSignal;
  /** Talks to the platform with retries, rate-limit waits and token refresh built in. */
  http: HttpClient;
  log: Logger;
}

/** How much a run of one resource will yield, as far as the platform tells before it is read. */
export interface ExpectedSize {
  /** Items the run will yield. */
  items: number;
  /** A bound or a guess (pages × page size) rather than the platform's own count. */
  estimated?: boolean;
}

export interface FetchContext<S = unknown> extends ConnectorContext<S> {
  /** What the previous successful run returned; undefined means a full run. */
  cursor: Cursor | undefined;
  /**
   * Says how many items this run will yield as soon as the platform tells (a total count, a number
   * of pages): the job's progress then has a total, a percent and an ETA.
   * Call it again when the figure gets better; the last call counts. Counts of what changed (a
   * filtered, incremental listing) are fine: they are what the run yields.
   */
  expect(size: ExpectedSize): void;
}

export interface RestoreContext<S = unknown> extends ConnectorContext<S> {
  /** Target options (for example a target schema, or what to do with existing rows). */
  options: Record<string, unknown>;
}

export interface Connector<S = any> {
  /** The platform slug: the name of its catalogue folder. */
  slug: string;
  name: string;
  authType: AuthType;
  resources: readonly ResourceDefinition[];
  settingsSchema?: z.ZodType<S>;
  /** How `ctx.http` reaches the platform. Connectors that speak no HTTP leave it out. */
  http?: HttpClientConfig;
  /**
   * Yields the resource's items; the generator's return value is the cursor for the next
   * incremental run (undefined: no incremental state).
   */
  fetch(resource: string, ctx: FetchContext<S>): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined>;
  restore?(resource: string, items: AsyncIterable<RestoreItem>, ctx: RestoreContext<S>): Promise<RestoreResult>;
}
