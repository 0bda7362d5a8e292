/**
 * GitLab (REST API v4): the projects the user is a member of (metadata and the repository's
 * default-branch archive), their issues and merge requests, wikis, and the user's snippets.
 * Projects page with keyset pagination (`pagination=keyset`, `order_by=id`), the rest with
 * `per_page=100`; both follow the `Link` header's `rel="next"`. The `RateLimit-Remaining` /
 * `RateLimit-Reset` headers hold requests once the quota is spent (2,000 a minute on GitLab.com,
 * paced besides), and a 429 waits its `Retry-After`.
 *
 * Incremental: issues and merge requests by `updated_after` (inclusive) of the newest
 * `updated_at` seen, per project; projects by `last_activity_after`, the archive read again only
 * for projects with activity.
 *
 * Restore writes issues back: an edit (PUT) of the issue if its project still has it, else a new
 * issue; it needs a token with the `api` scope.
 */
import {
  ConfigError,
  type Connector,
  ConnectorError,
  type ConnectorItem,
  type Cursor,
  eachItem,
  type FetchContext,
  HighWaterMark,
  type HighWaterState,
  jsonContent,
  paginateLink,
  readRestoreJson,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

export const GITLAB_API_URL = 'https://gitlab.com/api/v4';

const PER_PAGE = 100;
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

interface Project {
  id: number;
  path_with_namespace: string;
  last_activity_at?: string;
  wiki_enabled?: boolean;
  issues_enabled?: boolean;
  merge_requests_enabled?: boolean;
  empty_repo?: boolean;
  archived?: boolean;
}

interface Record_ {
  id: number;
  iid: number;
  title: string;
  state: string;
  updated_at: string;
  [key: string]: unknown;
}

export function createGitLabConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'gitlab',
    name: 'GitLab',
    authType: 'oauth2',
    resources: [
      { name: 'projects', incremental: true, cursor: 'last_activity_after', binaryContent: true, restorable: false, description: 'Projects with their settings, and each repository’s default branch as a .tar.gz archive.' },
      { name: 'issues', incremental: true, cursor: 'updated_after (updated_at), per project', restorable: true, description: 'Issues, open and closed.' },
      { name: 'merge_requests', incremental: true, cursor: 'updated_after (updated_at), per project', restorable: false, description: 'Merge requests in every state.' },
      { name: 'wikis', incremental: false, restorable: false, description: 'Project wiki pages with their content.' },
      { name: 'snippets', incremental: false, restorable: false, description: 'The user’s snippets with their content.' },
    ],
    http: {
      platform: 'GitLab',
      baseUrl: options.baseUrl ?? GITLAB_API_URL,
      authorize: (credentials): Record<string, string> => {
        if (credentials.apiKey) return { 'private-token': credentials.apiKey };
        if (credentials.accessToken) return { authorization: `Bearer ${credentials.accessToken}` };
        throw new ConfigError('The GitLab connection has no token');
      },
      rate: () => ({ key: 'api', limit: 2000, intervalMs: 60_000 }),
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const b = body as { message?: unknown; error_description?: unknown; error?: unknown } | undefined;
        if (typeof b?.error_description === 'string') return b.error_description;
        if (typeof b?.message === 'string') return b.message;
        if (b?.message && typeof b.message === 'object') return JSON.stringify(b.message);
        return typeof b?.error === 'string' ? b.error : undefined;
      },
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'projects':
          return fetchProjects(ctx);
        case 'issues':
          return fetchPerProject(ctx, 'issues', { scope: 'all' }, (p) => p.issues_enabled !== false);
        case 'merge_requests':
          return fetchPerProject(ctx, 'merge_requests', { scope: 'all', state: 'all' }, (p) => p.merge_requests_enabled !== false);
        case 'wikis':
          return fetchWikis(ctx);
        case 'snippets':
          return fetchSnippets(ctx);
        default:
          throw new ConfigError(`GitLab has no resource ${resource}`);
      }
    },
    restore(resource, items, ctx) {
      if (resource !== 'issues') throw new ConfigError(`GitLab cannot restore ${resource}; export it instead`);
      return restoreIssues(items, ctx);
    },
  };
}

async function listProjects(ctx: FetchContext, activityAfter?: string): Promise<Project[]> {
  const projects: Project[] = [];
  const query = { membership: true, pagination: 'keyset', order_by: 'id', sort: 'asc', per_page: PER_PAGE, last_activity_after: activityAfter };
  for await (const project of eachItem(paginateLink<Project>(ctx.http, 'projects', { query }))) projects.push(project);
  return projects;
}

async function* fetchProjects(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = HighWaterMark.read<number>((ctx.cursor as { activity?: unknown } | undefined)?.activity, 'number');
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<number>(previous);
  for (const project of await listProjects(ctx, mark.since === undefined ? undefined : new Date(mark.since).toISOString())) {
    const at = project.last_activity_at;
    const ms = at ? Date.parse(at) : Number.NaN;
    if (!Number.isNaN(ms)) {
      if (mark.seenBefore(ms, String(project.id))) continue;
      mark.see(ms, String(project.id));
    }
    const folder = `projects/${project.path_with_namespace}`;
    yield { id: String(project.id), path: `${folder}/project.json`, updatedAt: at, changeMarker: at, contentType: 'application/json', metadata: { path: project.path_with_namespace, kind: 'project' }, content: jsonContent(project) };
    if (project.empty_repo) continue;
    yield {
      id: `${project.id}/repository`,
      path: `${folder}/repository.tar.gz`,
      updatedAt: at,
      changeMarker: at,
      contentType: 'application/gzip',
      metadata: { path: project.path_with_namespace, kind: 'repository' },
      content: () => ctx.http.stream(`projects/${project.id}/repository/archive.tar.gz`),
    };
  }
  const state = mark.state();
  return state ? { activity: state } : null;
}

async function* fetchPerProject(ctx: FetchContext, kind: 'issues' | 'merge_requests', query: Record<string, string>, enabled: (project: Project) => boolean): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readProjectCursors(ctx);
  const next: Record<string, HighWaterState<number>> = {};
  for (const project of await listProjects(ctx)) {
    if (!enabled(project)) continue;
    const key = String(project.id);
    const mark = new HighWaterMark<number>(previous[key]);
    const since = mark.since === undefined ? undefined : new Date(mark.since).toISOString();
    const pages = paginateLink<Record_>(ctx.http, `projects/${project.id}/${kind}`, { query: { ...query, order_by: 'updated_at', sort: 'asc', per_page: PER_PAGE, updated_after: since } });
    const seen = new Set<number>();
    for await (const record of eachItem(pages)) {
      const at = Date.parse(record.updated_at);
      if (seen.has(record.id) || (!Number.isNaN(at) && mark.seenBefore(at, String(record.id)))) continue;
      seen.add(record.id);
      if (!Number.isNaN(at)) mark.see(at, String(record.id));
      yield {
        id: String(record.id),
        path: `${kind}/${project.path_with_namespace}/${record.iid}.json`,
        updatedAt: record.updated_at,
        changeMarker: record.updated_at,
        contentType: 'application/json',
        metadata: { project: project.path_with_namespace, projectId: project.id, iid: record.iid, title: record.title, state: record.state },
        content: jsonContent(record),
      };
    }
    const state = mark.state();
    if (state) next[key] = state;
  }
  return { projects: next };
}

function readProjectCursors(ctx: FetchContext): Record<string, HighWaterState<number>> {
  const projects = (ctx.cursor as { projects?: unknown } | undefined)?.projects;
  const result: Record<string, HighWaterState<number>> = {};
  if (projects && typeof projects === 'object') {
    for (const [id, value] of Object.entries(projects)) {
      const state = HighWaterMark.read<number>(value, 'number');
      if (state) result[id] = state;
    }
  } else if (ctx.cursor !== undefined) {
    ctx.log.warn('unreadable cursor, running in full');
  }
  return result;
}

async function* fetchWikis(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  for (const project of await listProjects(ctx)) {
    if (project.wiki_enabled === false) continue;
    const { data } = await ctx.http.json<{ slug: string; title: string; content?: string; format?: string }[]>(`projects/${project.id}/wikis`, { query: { with_content: 1 } });
    for (const page of data ?? []) {
      yield { id: `${project.id}/${page.slug}`, path: `wikis/${project.path_with_namespace}/${page.slug}.json`, contentType: 'application/json', metadata: { project: project.path_with_namespace, title: page.title, format: page.format ?? null }, content: jsonContent(page) };
    }
  }
  return undefined;
}

async function* fetchSnippets(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  const pages = paginateLink<{ id: number; title: string; file_name?: string; updated_at?: string }>(ctx.http, 'snippets', { query: { per_page: PER_PAGE } });
  for await (const snippet of eachItem(pages)) {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of ctx.http.stream(`snippets/${snippet.id}/raw`)) {
      size += chunk.byteLength;
      if (size > MAX_RECORD_BYTES) throw new ConfigError(`GitLab: snippet ${snippet.id} is larger than ${MAX_RECORD_BYTES} bytes`);
      chunks.push(chunk);
    }
    const content = Buffer.concat(chunks).toString('utf8');
    yield { id: String(snippet.id), path: `snippets/${snippet.id}.json`, updatedAt: snippet.updated_at, changeMarker: snippet.updated_at, contentType: 'application/json', metadata: { title: snippet.title, fileName: snippet.file_name ?? null }, content: jsonContent({ ...snippet, content }) };
  }
  return undefined;
}

async function restoreIssues(items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  let restored = 0;
  for await (const item of items) {
    const issue = await readIssue(item);
    const project = issue.project_id;
    const fields = {
      title: issue.title,
      description: issue.description ?? '',
      labels: Array.isArray(issue.labels) ? issue.labels.join(',') : '',
      confidential: issue.confidential === true,
      due_date: issue.due_date ?? null,
    };
    const stateEvent = issue.state === 'closed' ? 'close' : 'reopen';
    try {
      if (await issueExists(ctx, project, issue.iid)) {
        await ctx.http.json(`projects/${project}/issues/${issue.iid}`, { method: 'PUT', json: { ...fields, state_event: stateEvent } });
      } else {
        const { data } = await ctx.http.json<{ iid: number }>(`projects/${project}/issues`, { method: 'POST', json: fields });
        if (issue.state === 'closed') await ctx.http.json(`projects/${project}/issues/${data.iid}`, { method: 'PUT', json: { state_event: 'close' } });
      }
    } catch (error) {
      if (error instanceof ConnectorError && error.status === 403) {
        throw new ConfigError('GitLab refused to write the issue: restoring needs a token with the api scope', { status: 403, platformCode: error.platformCode });
      }
      throw error;
    }
    restored++;
  }
  return { restored, units: restored };
}

async function issueExists(ctx: RestoreContext, project: number, iid: number): Promise<boolean> {
  try {
    await ctx.http.json(`projects/${project}/issues/${iid}`);
    return true;
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) return false;
    throw error;
  }
}

async function readIssue(item: RestoreItem): Promise<{ project_id: number; iid: number; title: string; description?: string | null; labels?: string[]; confidential?: boolean; due_date?: string | null; state?: string }> {
  const issue: any = await readRestoreJson(item, 'GitLab', 'an issue');
  if (typeof issue?.project_id !== 'number' || typeof issue.iid !== 'number' || typeof issue.title !== 'string') throw new ConfigError(`GitLab: ${item.path} is not an issue (no project_id, iid and title)`);
  return issue;
}
