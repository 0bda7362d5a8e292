import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeNotion } from './fake.ts';

const titleOf = (page: Record<string, any>): string => (Object.values(page.properties) as any[]).find((property) => property.type === 'title')?.title.map((t: any) => t.plain_text).join('');

export default {
  slug: 'notion',
  async start() {
    const definition = definitionOf('notion');
    const notion = await new FakeNotion().start();
    const workspaceId = randomUUID();
    // users/me is the fake API's own.
    notion.account = new FakeAccount({
      definition,
      accept: (token) => notion.tokens.add(token),
      refuse: (token) => notion.tokens.delete(token),
      tokenFields: () => ({ bot_id: notion.bot.id, workspace_id: workspaceId, workspace_name: 'Acme', workspace_icon: null, owner: { type: 'workspace', workspace: true }, duplicated_template_id: null }),
      tokenPrefix: 'ntn_',
    });
    // Pages of 2: every list takes more than one.
    for (const type of ['block', 'user', 'page_or_database', 'comment']) notion.maxPage[type] = 2;
    const home = notion.addPage('Home');
    notion.addBlocks(home.id, ['Welcome', 'to the workspace', 'third paragraph']);
    const notes = notion.addPage('Notes', { type: 'page_id', page_id: home.id });
    notion.addBlocks(notes.id, ['First note', { type: 'to_do', to_do: { rich_text: [{ type: 'text', text: { content: 'Call back', link: null }, plain_text: 'Call back', href: null }], checked: false, color: 'default' } }]);
    const tasks = notion.addDatabase('Tasks', home.id);
    for (const name of ['Write', 'Review', 'Ship']) notion.addRow(tasks.id, name);
    notion.addComment(home.id, 'Looks good');
    notion.addUser('Ada');
    const pages = () => notion.pages.filter((page) => page.parent.type !== 'database_id' && !page.in_trash);
    let gone: { title: string; tree: unknown }[] = [];
    return {
      apiRoot: apiRootAt(definition, notion.url),
      account: notion.account,
      origin: notion.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const page of pages()) served.set(`pages/${titleOf(page)} (${page.id}).json`, json({ page, blocks: notion.children.get(page.id) }));
        for (const database of notion.databases) {
          const folder = `databases/${database.title[0].plain_text} (${database.id})`;
          served.set(`${folder}/database.json`, json(database));
          for (const row of notion.pages.filter((page) => page.parent.database_id === database.id)) served.set(`${folder}/rows/${row.id}.json`, json(row));
        }
        for (const comment of notion.comments) served.set(`comments/${comment.parent.page_id}/${comment.id}.json`, json(comment));
        for (const user of [notion.bot, ...notion.users]) served.set(`users/${user.id}.json`, json(user));
        return served;
      },
      restore: {
        resource: 'pages',
        damage() {
          // The notes page is deleted (to the trash, then emptied).
          gone = [{ title: 'Notes', tree: notion.tree(notes.id) }];
          notion.pages.splice(notion.pages.indexOf(notes), 1);
        },
        check() {
          for (const { title, tree } of gone) {
            const back = pages().find((page) => titleOf(page) === title);
            assert.ok(back, `page ${title} was not restored`);
            assert.deepEqual(notion.tree(back.id), tree);
          }
          // Minutes pass before the next backup: the restored pages are older than its margin.
          notion.advance(120_000);
        },
      },
      incremental: {
        resource: 'pages',
        // Block trees read: one per page the run takes as changed.
        read: () => notion.recordsServed(/^\/v1\/blocks\/[^/]+\/children$/, (body) => body?.results),
        change() {
          notion.advance(120_000);
          // The notes page as restored (a new page: the first was deleted).
          const page = pages().find((candidate) => titleOf(candidate) === 'Notes')!;
          notion.addBlocks(page.id, ['Added later']);
          notion.touch(page);
          return `pages/${titleOf(page)} (${page.id}).json`;
        },
      },
      close: () => notion.close(),
    };
  },
} satisfies E2EPlatform;
