/**
 * The contract every paged list keeps (first/after, 1 to 100 a page, BAD_PAGE_SIZE and
 * BAD_CURSOR, nothing of the list in an error, a cursor only good in the list and for the parent
 * that gave it out),
 * as one table of checks each list's test runs against its own seeded rows.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';

export interface PagingResponse {
  data?: Record<string, any> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface Connection {
  edges: { cursor: string; node: any }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount?: number;
}

export interface PagingSpec {
  /** Asks for one page of the list under test, as its reader. */
  page(first?: number, after?: string | null): Promise<PagingResponse>;
  /** The connection in a successful answer. */
  connection(response: PagingResponse): Connection;
  /** The list's parent in a failed answer, which must be null (`data.account`, `data._entities[0]`…). */
  failed(response: PagingResponse): unknown;
  /** How a node is told apart in `expected`. */
  label(node: any): string;
  /** Every node of the list, in list order (more than `walk`, and at most 100 unless `huge` says otherwise). */
  expected: () => string[];
  /** Page size for the walk (defaults to a third of the list). */
  walk?: number;
  /** The default page size when `first` is left out (20 unless given). */
  defaultSize?: number;
  /** Text of the list's nodes that must not show in any error answer. */
  secret: () => string;
  /** Cursors this list never gave out but that decode (another list's key shape). */
  forged?: () => string[];
  /**
   * Another parent's list (or the same list of another caller, where the list is "what I see"),
   * paged by someone else: its cursor (taken from a page of `first: 1`) is BAD_CURSOR in the
   * reader's list, though it is well formed and signed.
   */
  foreign?: { cursor: () => Promise<string> };
  /** The same list asked for by a caller who may not see it: the code it gets (NOT_FOUND, FORBIDDEN…). */
  stranger?: { page(first?: number, after?: string | null): Promise<PagingResponse>; code: string };
  /** Whether the connection has `totalCount` (asked for in `page`). */
  counted?: boolean;
}

const codes = (response: PagingResponse) => (response.errors ?? []).map((error) => error.extensions?.code);
const base64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The checks, as a `describe` block named `name`. */
export function describePaging(name: string, spec: PagingSpec): void {
  describe(`${name} pages`, () => {
    const ok = (response: PagingResponse) => {
      expect(response.errors).toBeUndefined();
      return spec.connection(response);
    };
    const labels = (connection: Connection) => connection.edges.map((edge) => spec.label(edge.node));

    it('walks every node once, in order, in pages of `first`, each ending at its endCursor', async () => {
      const expected = spec.expected();
      const size = spec.walk ?? Math.max(1, Math.floor(expected.length / 3));
      expect(expected.length).toBeGreaterThan(size);
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages <= expected.length; pages++) {
        const connection = ok(await spec.page(size, after));
        expect(connection.edges.length).toBeLessThanOrEqual(size);
        seen.push(...labels(connection));
        if (spec.counted) expect(connection.totalCount).toBe(expected.length);
        if (!connection.pageInfo.hasNextPage) break;
        expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)!.cursor);
        after = connection.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
    });

    it('gives the default page when `first` is left out, and up to 100 when asked', async () => {
      const expected = spec.expected();
      expect(labels(ok(await spec.page()))).toEqual(expected.slice(0, spec.defaultSize ?? 20));
      const largest = ok(await spec.page(100));
      expect(labels(largest)).toEqual(expected.slice(0, 100));
      expect(largest.pageInfo.hasNextPage).toBe(expected.length > 100);
    });

    it('refuses a `first` above 100 with BAD_PAGE_SIZE naming the maximum, instead of cutting the page', async () => {
      for (const first of [101, 5000, 2 ** 31 - 1]) {
        const response = await spec.page(first);
        expect(codes(response), String(first)).toEqual(['BAD_USER_INPUT']);
        expect(response.errors![0].extensions).toMatchObject({ reason: 'BAD_PAGE_SIZE', field: 'first', max: 100 });
        expect(response.errors![0].message).toContain('100');
        expect(spec.failed(response) ?? null).toBeNull();
        expect(JSON.stringify(response)).not.toContain(spec.secret());
      }
    });

    it('refuses a zero or negative `first` and a forged cursor with BAD_USER_INPUT and a reason, showing nothing of the list', async () => {
      const forged = [
        'not-a-cursor',
        base64('{"id":1}'),
        base64([]),
        base64(['2026-01-01T00:00:00Z', 'not-a-uuid']),
        base64([{}, randomUUID()]),
        ...(spec.forged?.() ?? []),
      ];
      const cases: { first: number; after?: string; reason: string }[] = [
        { first: 0, reason: 'BAD_PAGE_SIZE' },
        { first: -1, reason: 'BAD_PAGE_SIZE' },
        { first: -(2 ** 31), reason: 'BAD_PAGE_SIZE' },
        ...forged.map((after) => ({ first: 5, after, reason: 'BAD_CURSOR' })),
      ];
      for (const { first, after, reason } of cases) {
        const response = await spec.page(first, after);
        expect(codes(response), `${first} ${after}`).toEqual(['BAD_USER_INPUT']);
        expect(response.errors![0].extensions).toMatchObject({ reason });
        expect(spec.failed(response) ?? null).toBeNull();
        expect(JSON.stringify(response)).not.toContain(spec.secret());
      }
    });

    it('answers a `first` beyond Int with a validation error, not a server error', async () => {
      const response = await spec.page(2 ** 40);
      expect(codes(response)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(response)).not.toContain(spec.secret());
    });

    it('refuses a cursor whose key was changed under its signature, or whose signature was changed, with BAD_CURSOR', async () => {
      const cursor = ok(await spec.page(1)).pageInfo.endCursor!;
      const [payload, mac] = cursor.split('.');
      const key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const changed = key.map((part: unknown) => (typeof part === 'number' ? part + 1 : typeof part === 'string' ? `${part.slice(0, -1)}0` : part));
      const flipped = `${mac.slice(0, 3)}${mac[3] === 'A' ? 'B' : 'A'}${mac.slice(4)}`;
      for (const after of [`${base64(changed)}.${mac}`, `${payload}.${flipped}`, payload, `${payload}.`, `${cursor}x`]) {
        const response = await spec.page(5, after);
        expect(codes(response), after).toEqual(['BAD_USER_INPUT']);
        expect(response.errors![0].extensions).toMatchObject({ reason: 'BAD_CURSOR' });
        expect(spec.failed(response) ?? null).toBeNull();
      }
      expect(ok(await spec.page(5, cursor)).edges.length).toBeGreaterThan(0);
    });

    if (spec.foreign) {
      const foreign = spec.foreign;
      it('refuses a cursor another parent’s list gave out with BAD_CURSOR, not reading it as a position', async () => {
        const response = await spec.page(5, await foreign.cursor());
        expect(codes(response)).toEqual(['BAD_USER_INPUT']);
        expect(response.errors![0].extensions).toMatchObject({ reason: 'BAD_CURSOR' });
        expect(spec.failed(response) ?? null).toBeNull();
        expect(JSON.stringify(response)).not.toContain(spec.secret());
      });
    }

    if (spec.stranger) {
      const stranger = spec.stranger;
      it(`answers ${stranger.code} and no page to a caller who may not see the list, with or without a cursor`, async () => {
        const cursor = ok(await spec.page(1)).pageInfo.endCursor;
        for (const after of [null, cursor]) {
          const response = await stranger.page(5, after);
          expect(codes(response)).toEqual([stranger.code]);
          expect(JSON.stringify(response)).not.toContain(spec.secret());
        }
      });
    }
  });
}
