import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createNotionConnector, NOTION_VERSION } from './connector.ts';
import { FakeNotion } from './fake.ts';

describe('Notion connector', () => {
  const notion = new FakeNotion();
  let connector: ReturnType<typeof createNotionConnector>;
  const token = () => tokenCredentials('accessToken', 'secret_valid');
  let home: Record<string, any>;
  let long: Record<string, any>;
  let tasks: Record<string, any>;

  beforeAll(async () => {
    await notion.start();
    connector = createNotionConnector({ baseUrl: `${notion.url}/v1` });
    home = notion.addPage('Home');
    notion.addBlocks(home.id, ['Welcome', 'Second paragraph']);
    notion.addBlocks(home.id, [{ type: 'toggle', toggle: { rich_text: [{ type: 'text', text: { content: 'More' }, plain_text: 'More' }], color: 'default' }, children: [{ type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: 'Hidden' }, plain_text: 'Hidden' }] } }, { type: 'to_do', to_do: { rich_text: [{ type: 'text', text: { content: 'Task' }, plain_text: 'Task' }], checked: true } }] }]);
    tasks = notion.addDatabase('Tasks', home.id);
    for (const name of ['Write', 'Review', 'Ship']) notion.addRow(tasks.id, name);
    long = notion.addPage('Long read', { type: 'page_id', page_id: home.id });
    notion.addBlocks(long.id, Array.from({ length: 130 }, (_, i) => `Paragraph ${i}`));
    notion.addComment(home.id, 'Looks good');
    notion.addComment(home.id, 'Ship it');
    for (const name of ['Ada', 'Grace', 'Edsger']) notion.addUser(name);
  });
  afterAll(() => notion.close());

  it('backs up each shared page with its block tree, paging search and children with start_cursor', async () => {
    notion.maxPage.page_or_database = 2;
    notion.requests.length = 0;
    try {
      const { items, cursor } = await collect(connector, 'pages', token());
      expect(items.map((i) => i.metadata.title).sort()).toEqual(['Home', 'Long read']);
      const searches = notion.requestsTo('/v1/search', 'POST').map((r) => JSON.parse(r.body));
      expect(searches).toHaveLength(3);
      expect(searches[0]).toMatchObject({ filter: { property: 'object', value: 'page' }, sort: { direction: 'descending', timestamp: 'last_edited_time' }, page_size: 100 });
      expect(searches[0].start_cursor).toBeUndefined();
      expect(searches[1].start_cursor).toBeTruthy();
      const longPages = notion.requestsTo(`/v1/blocks/${long.id}/children`);
      expect(longPages.map((r) => Boolean(r.query.get('start_cursor')))).toEqual([false, true]);
      expect(notion.requests.every((r) => r.headers['notion-version'] === NOTION_VERSION && r.headers.authorization === 'Bearer secret_valid')).toBe(true);

      const homeItem = json(items.find((i) => i.id === home.id)!);
      expect(homeItem.page).toEqual(home);
      expect(homeItem.blocks.map((b: { type: string }) => b.type)).toEqual(['paragraph', 'paragraph', 'toggle', 'child_database']);
      expect(homeItem.blocks[2].children.map((b: { type: string }) => b.type)).toEqual(['paragraph', 'to_do']);
      expect(json(items.find((i) => i.id === long.id)!).blocks).toHaveLength(130);
      // The minute before the run began, by Notion's clock.
      const mark = Date.parse((cursor as { pages: string }).pages);
      expect(mark % 60_000).toBe(0);
      expect(mark).toBeLessThanOrEqual(notion.requests[0].at - 60_000);
      expect(mark).toBeGreaterThan(notion.requests[0].at - 180_000);
    } finally {
      delete notion.maxPage.page_or_database;
    }
  });

  it('a later run walks search down to the mark and yields only the pages edited since (the mark’s minute again)', async () => {
    // Everything so far was edited in the minute before the first run: the next run reads it again.
    const first = await collect(connector, 'pages', token());
    notion.advance(120_000);
    notion.addBlocks(long.id, ['Added later']);
    const second = await collect(connector, 'pages', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id)).toContain(long.id);

    notion.advance(120_000);
    notion.addBlocks(long.id, ['Added even later']);
    notion.requests.length = 0;
    const third = await collect(connector, 'pages', { ...token(), cursor: second.cursor });
    expect(third.items.map((i) => i.id)).toEqual([long.id]);
    expect(json(third.items[0]).blocks.at(-1).paragraph.rich_text[0].plain_text).toBe('Added even later');
    expect(notion.requestsTo(`/v1/blocks/${home.id}/children`)).toEqual([]);
    // Notion keeps minutes: what was edited in the minute before a run is read again by the next.
    const fourth = await collect(connector, 'pages', { ...token(), cursor: third.cursor });
    expect(fourth.items.map((i) => i.id)).toEqual([long.id]);
  });

  it('backs up databases with their rows; a later run queries rows on_or_after the mark and skips the unchanged schema', async () => {
    const first = await collect(connector, 'databases', token());
    expect(first.items.map((i) => i.metadata.kind)).toEqual(['database', 'row', 'row', 'row']);
    expect(json(first.items[0]).properties.Status.type).toBe('select');
    expect(first.items[1].path).toMatch(new RegExp(`^databases/Tasks \\(${tasks.id}\\)/rows/`));
    const rows = notion.pages.filter((p) => p.parent.database_id === tasks.id);
    const done = (row: Record<string, any>) => notion.touch(row, { properties: { ...row.properties, Status: { id: 'st', type: 'select', select: { id: 'o1', name: 'Done', color: 'green' } } } });
    notion.advance(120_000);
    done(rows[0]);
    const second = await collect(connector, 'databases', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id)).toContain(rows[0].id);

    notion.advance(120_000);
    done(rows[2]);
    notion.requests.length = 0;
    const third = await collect(connector, 'databases', { ...token(), cursor: second.cursor });
    // rows[0] was edited in the minute before the second run, so it is read again; rows[1] and the schema are not.
    expect(third.items.map((i) => i.id).sort()).toEqual([rows[0].id, rows[2].id].sort());
    expect(json(third.items.find((i) => i.id === rows[2].id)!).properties.Status.select.name).toBe('Done');
    const query = JSON.parse(notion.requestsTo(`/v1/databases/${tasks.id}/query`, 'POST')[0].body);
    expect(query.filter).toEqual({ timestamp: 'last_edited_time', last_edited_time: { on_or_after: (second.cursor as { databases: Record<string, string> }).databases[tasks.id] } });
  });

  it('backs up comments of every page, and says which capability is missing when it is', async () => {
    const { items } = await collect(connector, 'comments', token());
    expect(items.map((i) => json(i).rich_text[0].plain_text).sort()).toEqual(['Looks good', 'Ship it']);
    expect(items[0].path).toMatch(new RegExp(`^comments/${home.id}/`));
    notion.readComments = false;
    try {
      const error = await collect(connector, 'comments', token()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('Read comments');
    } finally {
      notion.readComments = true;
    }
  });

  it('lists users across pages', async () => {
    notion.maxPage.user = 2;
    notion.requests.length = 0;
    try {
      const { items } = await collect(connector, 'users', token());
      expect(items.map((i) => i.metadata.name)).toEqual(['ListBackup', 'Ada', 'Grace', 'Edsger']);
      expect(notion.requestsTo('/v1/users')).toHaveLength(2);
    } finally {
      delete notion.maxPage.user;
    }
  });

  it('waits out a 429 rate_limited for its Retry-After', async () => {
    notion.requests.length = 0;
    notion.failNext({ status: 429, match: (r) => r.path === '/v1/users' });
    const { items } = await collect(connector, 'users', token());
    expect(items).toHaveLength(4);
    const [limited, retried] = notion.requestsTo('/v1/users');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(notion.earlyRetries).toEqual([]);
  });

  it('a refused token is refreshed once, then a CONFIG failure', async () => {
    const revoked = tokenCredentials('accessToken', 'secret_revoked', 'secret_revoked_too');
    const error = await collect(connector, 'users', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, platformCode: 'unauthorized' });
    expect((error as Error).message).toContain('API token is invalid');
    expect(revoked.state.refreshes).toBe(1);
  });

  it('restores a page as a new page under its parent with the same block tree, 100 blocks an append', async () => {
    const backup = await collect(connector, 'pages', token());
    const item = (id: string) => backup.items.find((i) => i.id === id)!;
    const before = notion.pages.length;
    notion.requests.length = 0;
    const result = await restoreResource(connector, 'pages', items([item(home.id), item(long.id)]), { ...token(), retry: FAST_RETRY });
    expect(result.restored).toBe(2);
    const [restoredHome, restoredLong] = notion.pages.slice(before);
    expect(restoredHome.parent).toEqual({ type: 'workspace', workspace: true });
    expect(restoredHome.properties.title.title[0].plain_text).toBe('Home');
    expect(restoredHome.icon).toEqual(home.icon);
    // The database is an object of its own: not part of the restored tree.
    expect(notion.tree(restoredHome.id)).toEqual(notion.tree(home.id).filter((b) => b.type !== 'child_database'));
    expect(restoredLong.parent).toEqual({ type: 'page_id', page_id: home.id });
    expect(notion.tree(restoredLong.id)).toEqual(notion.tree(long.id));
    const longBlocks = notion.children.get(long.id)!.length;
    expect(notion.requestsTo(`/v1/blocks/${restoredLong.id}/children`, 'PATCH').map((r) => JSON.parse(r.body).children.length)).toEqual([100, longBlocks - 100]);
    expect(result.units).toBe(3 + 2 + longBlocks);
  });

  it('restores under another page when asked; a parent gone is a CONFIG failure saying so', async () => {
    const backup = await collect(connector, 'pages', token());
    const longItem = backup.items.find((i) => i.id === long.id)!;
    const target = notion.addPage('Restored here');
    await restoreResource(connector, 'pages', items([longItem]), { ...token(), retry: FAST_RETRY, options: { parentPageId: target.id } });
    expect(notion.pages.at(-1)!.parent).toEqual({ type: 'page_id', page_id: target.id });

    const orphan = { ...longItem, body: Buffer.from(JSON.stringify({ ...json(longItem), page: { ...json(longItem).page, parent: { type: 'page_id', page_id: '00000000-0000-4000-8000-000000000000' } } })) };
    const error = await restoreResource(connector, 'pages', items([orphan]), { ...token(), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('parentPageId');
    await expect(restoreResource(connector, 'pages', items([longItem]), { ...token(), options: { parentPageId: 'not-a-uuid' } })).rejects.toBeInstanceOf(ConfigError);
    await expect(restoreResource(connector, 'databases', items([]), token())).rejects.toBeInstanceOf(ConfigError);
  });

  it('an item that is not a backed-up page is a CONFIG failure naming it, and nothing is written', async () => {
    const writes = () => notion.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    for (const body of ['{"page": {"id": "cut', '[]', '{"page": {"id": "a"}}']) {
      const item = { id: 'x', path: 'pages/broken.json', metadata: {}, body: Buffer.from(body) } as CollectedItem;
      const error = await restoreResource(connector, 'pages', items([item]), { ...token(), retry: FAST_RETRY }).catch((e: unknown) => e);
      expect(error, body).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^Notion: pages\/broken\.json is not a backed-up page/);
    }
    expect(writes()).toBe(before);
  });

  it('kept to 3 requests a second in the whole run: Notion never had to say no', () => {
    expect(notion.overLimit).toEqual([]);
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
