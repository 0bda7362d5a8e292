/**
 * The connector SDK: what a connector declares (`Connector`), what it is given (`FetchContext`),
 * and how the engine runs one (`fetchResource`, `restoreResource`). Connectors live in the
 * catalogue's platform folders (`<slug>/connector.ts`); `../index.ts` lists them.
 */
import pino from 'pino';
import type { Logger } from '@listbackup/lib/logger';
import { ConfigError } from './errors.ts';
import { HttpClient, type RetryPolicy } from './http.ts';
import { throwIfAborted } from './timing.ts';
import type { Connector, ConnectorContext, ConnectorItem, Credentials, Cursor, ExpectedSize, FetchContext, RestoreContext, RestoreItem, RestoreResult } from './types.ts';

export * from './breaker.ts';
export * from './errors.ts';
export * from './high-water.ts';
export * from './http.ts';
export * from './pacing.ts';
export * from './pagination.ts';
export * from './types.ts';
export * from './webhooks.ts';
export { abortReason, backoffDelay, sleep, throwIfAborted } from './timing.ts';

export interface ConnectorRunInit {
  /** Reads the connection's credentials from the vault. */
  credentials: () => Promise<Credentials>;
  /** Asks the vault to refresh them (OAuth refresh grant); default: read them again. */
  refreshCredentials?: () => Promise<Credentials>;
  /** The source's settings for this connector; validated with the connector's schema. */
  settings?: unknown;
  signal?: AbortSignal;
  log?: Logger;
  /** Retry and circuit breaker policy overrides (tests shorten the backoff). */
  retry?: Partial<RetryPolicy>;
  /** The connection's id: runs of one connection share its circuit breaker (see breaker.ts). */
  connection?: string;
}

export interface FetchRunInit extends ConnectorRunInit {
  /** The cursor the previous successful run returned; leave it out for a full run. */
  cursor?: Cursor;
  /** Told what the connector expects this run to yield, each time it says (`FetchContext.expect`). */
  onExpect?: (size: ExpectedSize) => void;
}

export interface RestoreRunInit extends ConnectorRunInit {
  options?: Record<string, unknown>;
}

/** One run over one resource: iterate it for the items, then read `cursor`. */
export interface FetchRun extends AsyncIterable<ConnectorItem> {
  /** The cursor for the next incremental run; set once iteration has finished without error. */
  readonly cursor: Cursor | undefined;
  readonly completed: boolean;
  readonly itemCount: number;
  /** What the connector last said it expects this run to yield, if it did. */
  readonly expected: ExpectedSize | undefined;
}

const silent: Logger = pino({ level: 'silent' });

/** Builds the context a connector runs in; credentials refreshed once are reused by later calls. */
export function createConnectorContext<S>(connector: Connector<S>, init: ConnectorRunInit): ConnectorContext<S> {
  const signal = init.signal ?? new AbortController().signal;
  const log = (init.log ?? silent).child({ connector: connector.slug });
  const settings = parseSettings(connector, init.settings);
  let current: Credentials | undefined;
  let version = 0;
  let refreshing: Promise<Credentials> | undefined;
  const credentials = async (): Promise<Credentials> => current ?? (await init.credentials());
  const refreshCredentials = (): Promise<Credentials> => {
    refreshing ??= (async () => {
      try {
        current = await (init.refreshCredentials ?? init.credentials)();
        version++;
        return current;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  };
  const http = new HttpClient(connector.http ?? { platform: connector.name, baseUrl: 'http://invalid.invalid' }, {
    credentials,
    refreshCredentials,
    credentialsVersion: () => version,
    signal,
    log,
    policy: init.retry,
    connection: init.connection,
  });
  return { credentials, refreshCredentials, settings, signal, http, log };
}

/**
 * Runs `connector.fetch` for one resource. Checks the resource exists, validates settings,
 * stops between items once the signal fires, and keeps item paths unique within the run.
 */
export function fetchResource<S>(connector: Connector<S>, resource: string, init: FetchRunInit): FetchRun {
  assertResource(connector, resource);
  let expected: ExpectedSize | undefined;
  const expect = (size: ExpectedSize) => {
    // A figure the platform got wrong (negative, not a whole number) is no figure: the backup goes on without it.
    if (!Number.isSafeInteger(size.items) || size.items < 0) return;
    expected = { items: size.items, estimated: size.estimated === true };
    init.onExpect?.(expected);
  };
  const ctx: FetchContext<S> = { ...createConnectorContext(connector, init), cursor: init.cursor, expect };
  let cursor: Cursor | undefined;
  let completed = false;
  let itemCount = 0;
  let started = false;
  return {
    get cursor() {
      return cursor;
    },
    get expected() {
      return expected;
    },
    get completed() {
      return completed;
    },
    get itemCount() {
      return itemCount;
    },
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error('a FetchRun can be iterated once');
      started = true;
      const paths = new Map<string, number>();
      const generator = connector.fetch(resource, ctx);
      try {
        for (;;) {
          throwIfAborted(ctx.signal);
          const next = await generator.next();
          if (next.done) {
            cursor = next.value;
            completed = true;
            return;
          }
          const item = next.value;
          if (!item.id || !item.path) throw new Error(`${connector.slug}/${resource} yielded an item without id or path`);
          const seen = paths.get(item.path) ?? 0;
          paths.set(item.path, seen + 1);
          itemCount++;
          yield seen === 0 ? item : { ...item, path: uniquePath(item.path, item.id, seen) };
        }
      } finally {
        if (!completed) await generator.return(undefined).catch(() => {});
      }
    },
  };
}

/** Writes items back to the platform through the connector's `restore`. */
export async function restoreResource<S>(connector: Connector<S>, resource: string, items: AsyncIterable<RestoreItem>, init: RestoreRunInit): Promise<RestoreResult> {
  const definition = assertResource(connector, resource);
  if (!connector.restore || definition.restorable === false) throw new ConfigError(`${connector.name} cannot restore ${resource} to the platform; export it instead`);
  const ctx: RestoreContext<S> = { ...createConnectorContext(connector, init), options: init.options ?? {} };
  return connector.restore(resource, items, ctx);
}

/** Content for a JSON record: its compact serialization, one chunk. */
export function jsonContent(value: unknown): () => AsyncIterable<Uint8Array> {
  return async function* () {
    yield Buffer.from(JSON.stringify(value), 'utf8');
  };
}

/** Reads a whole (small) content stream; for JSON records and tests, never for files. */
export async function readAll(content: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A backed-up JSON record handed back for restore, at most `maxBytes` (16 MiB by default): an item
 * too large, not JSON, or (with `object`) not a JSON object, is a ConfigError naming the item
 * (`noun` says what it should have been, e.g. "an issue").
 */
export async function readRestoreJson(item: RestoreItem, platform: string, noun: string, options: { maxBytes?: number; object?: boolean } = {}): Promise<any> {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of item.content()) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new ConfigError(`${platform}: ${item.path} is larger than ${noun} can be`);
    chunks.push(chunk);
  }
  let record: unknown;
  try {
    record = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConfigError(`${platform}: ${item.path} is not ${noun}`);
  }
  if (options.object && (!record || typeof record !== 'object' || Array.isArray(record))) throw new ConfigError(`${platform}: ${item.path} is not ${noun}`);
  return record;
}

export function canRestore(connector: Connector, resource: string): boolean {
  const definition = connector.resources.find((r) => r.name === resource);
  return Boolean(connector.restore && definition && definition.restorable !== false);
}

function assertResource(connector: Connector, resource: string) {
  const definition = connector.resources.find((r) => r.name === resource);
  if (!definition) {
    throw new ConfigError(`${connector.name} has no resource "${resource}" (it has ${connector.resources.map((r) => r.name).join(', ') || 'none'})`);
  }
  return definition;
}

function parseSettings<S>(connector: Connector<S>, settings: unknown): S {
  if (!connector.settingsSchema) return (settings ?? {}) as S;
  const result = connector.settingsSchema.safeParse(settings ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(settings)'}: ${issue.message}`).join('; ');
  throw new ConfigError(`${connector.name} settings are invalid: ${problems}`);
}

function uniquePath(path: string, id: string, seen: number): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  const suffix = ` (${id.replace(/[/\\]/g, '_') || seen})`;
  return dot > slash + 1 ? `${path.slice(0, dot)}${suffix}${path.slice(dot)}` : `${path}${suffix}`;
}
