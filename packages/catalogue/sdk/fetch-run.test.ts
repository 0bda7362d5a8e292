import { describe, expect, it } from 'vitest';
import { type Connector, type ExpectedSize, fetchResource, jsonContent } from './index.ts';

/** A connector without HTTP that states the totals it is given, then yields two records. */
function stating(figures: ExpectedSize[]): Connector {
  return {
    slug: 'stating',
    name: 'Stating',
    authType: 'none',
    resources: [{ name: 'records', description: 'Records', incremental: false }],
    async *fetch(_resource, ctx) {
      for (const figure of figures) ctx.expect(figure);
      for (const id of ['a', 'b']) yield { id, path: `${id}.json`, metadata: {}, content: jsonContent({ id }) };
      return undefined;
    },
  };
}

describe('FetchContext.expect', () => {
  it("hands the runner each figure the connector states, the last one kept on the run; a figure that is not a count is dropped", async () => {
    const told: ExpectedSize[] = [];
    const run = fetchResource(stating([{ items: 10, estimated: true }, { items: -1 }, { items: 1.5 }, { items: Number.NaN }, { items: 2 }]), 'records', {
      credentials: async () => ({}),
      onExpect: (size) => told.push(size),
    });
    expect(run.expected).toBeUndefined();
    const ids: string[] = [];
    for await (const item of run) ids.push(item.id);
    expect(ids).toEqual(['a', 'b']);
    expect(told).toEqual([
      { items: 10, estimated: true },
      { items: 2, estimated: false },
    ]);
    expect(run.expected).toEqual({ items: 2, estimated: false });
  });
});
