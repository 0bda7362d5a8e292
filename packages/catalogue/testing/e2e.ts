/**
 * What the gateway end-to-end test (test/platforms-e2e) needs of a platform: its fake started with
 * a little data, how a user connects it, what the fake serves (so the stored bytes can be compared
 * with it) and, where a resource is restorable, how to see a restore reach the fake. Each platform
 * folder exports one as the default of its `e2e.ts`; `E2E_PLATFORMS` in `fakes.ts` lists them.
 */
import { findDefinition } from '../index.ts';
import type { PlatformDefinition } from '../platform.ts';
import type { FakeAccount } from './fake-account.ts';

/** What a snapshot item must hold: these exact bytes, or a JSON document with (at least) these fields. */
export type Served = Buffer | { json: unknown };

export interface E2EConnect {
  /** `oauth`: the product's authorization code flow through the fake's endpoints; `apiKey`: the key check. */
  kind: 'oauth' | 'apiKey';
  /** The API key, for `apiKey`. */
  apiKey?: string;
  /** What the user enters before connecting (a shop domain, a subdomain, a REST definition). */
  params?: Record<string, string>;
}

export interface E2ERestore {
  resource: string;
  /** Changes or deletes some of the resource's records at the fake, after the backup. */
  damage(): void | Promise<void>;
  /** Fails unless the fake holds again what was backed up. */
  check(): void | Promise<void>;
}

/**
 * How the row shows an incremental backup: one record of an incremental resource changes at the
 * fake, and the next backup reads that record and keeps the rest of the resource from the last
 * snapshot, reading less at the fake than the first (full) backup did.
 */
export interface E2EIncremental {
  /** An incremental resource with more than one page (or record) at the fake. */
  resource: string;
  /**
   * How much of `resource` the connector has read at the fake so far: its requests to the
   * resource's listing, or the records the fake served (`FakeServer.recordsServed`). Absent only
   * where there is no fake to count at (a database): the job's log then says what was read.
   */
  read?(): number;
  /**
   * Changes one record of `resource` at the fake (its clock moved on first, so the change is later
   * than anything backed up) and answers the record's snapshot path.
   */
  change(): string | Promise<string>;
}

export interface E2ERun {
  /** The connector's API root: the definition's, at the fake. None for a database. */
  apiRoot?: string;
  /** The OAuth and identity endpoints at the fake; its client is what the deployment registers. */
  account?: FakeAccount;
  /** The fake's origin, where `account`'s endpoints are. */
  origin?: string;
  connect: E2EConnect;
  /** Every item the backup must hold, by snapshot path. */
  served(): Map<string, Served> | Promise<Map<string, Served>>;
  restore?: E2ERestore;
  incremental: E2EIncremental;
  close(): Promise<void>;
}

export interface E2EPlatform {
  /** The catalogue folder. */
  slug: string;
  start(): Promise<E2ERun>;
}

export function definitionOf(slug: string): PlatformDefinition {
  const definition = findDefinition(slug);
  if (!definition) throw new Error(`no platform ${slug} in the catalogue`);
  return definition;
}

/** A URL template's origin: a scheme and host, or a placeholder standing for them. */
export const ORIGIN = /^(https?:\/\/[^/]+|\{[A-Za-z_]+\})/;

/** The definition's API root at a fake's origin, its path's placeholders filled from `params`. */
export function apiRootAt(definition: PlatformDefinition, origin: string, params: Record<string, string> = {}): string {
  // The origin may itself be a placeholder (Salesforce's `{instance_url}`).
  const path = definition.apiBaseUrl.replace(ORIGIN, '');
  return `${origin}${path.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`${definition.slug}: no value for {${name}} in its API root`);
    return params[name];
  })}`;
}

/** The JSON a record is served as (what a backup of it must contain). */
export function json(record: unknown): Served {
  return { json: JSON.parse(JSON.stringify(record)) };
}
