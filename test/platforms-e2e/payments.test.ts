import { expect, it } from 'vitest';
import { describeGroup } from './group.ts';
import { GROUPS } from './groups.ts';

describeGroup('payments', (stack) => {
  it('has a row for every platform `platforms` lists, so the list cannot offer what was never run end to end', async () => {
    const result = await stack().graphql('{ platforms { slug resources { name } } }');
    const listed: { slug: string; resources: unknown[] }[] = result.data!.platforms;
    const rows = Object.values(GROUPS).flat() as string[];
    expect(listed.map((platform) => platform.slug).filter((slug) => !rows.includes(slug)), 'platforms listed without an end-to-end row').toEqual([]);
    expect(rows.filter((slug) => !listed.some((platform) => platform.slug === slug)), 'rows of platforms `platforms` does not list').toEqual([]);
    expect(new Set(rows).size).toBe(rows.length);
  });
});
