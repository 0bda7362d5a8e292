/**
 * Jira Cloud (REST API v3, reached as an OAuth 2.0 (3LO) app at
 * `https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3`): issues with all their fields and
 * comments, their attachments' content, projects, worklogs and users of the site.
 *
 * Issues and attachments come from the enhanced JQL search (`search/jql`, `nextPageToken` until
 * `isLast`), ordered by `updated`. A full run asks `updated >= "1970-01-01 00:00"` (the search
 * refuses an unbounded query); an incremental one asks from the minute of the newest `updated`
 * seen, written in the user's time zone (JQL reads dates in it; `myself` says which), and skips
 * what the previous run handed over. Comments beyond those the search carries are paged from the
 * issue's comment endpoint (`startAt` / `maxResults` / `total`). Worklogs come from
 * `worklog/updated?since=` (epoch ms, `nextPage` until `lastPage`), read in batches of 1,000 with
 * `worklog/list`; the last `until` resumes the next run. Projects page with `startAt` until
 * `isLast`, users until a short page.
 *
 * Rate limits: Jira's budget is cost-based and unpublished, so requests are paced by its headers:
 * under `X-RateLimit-NearLimit` the remaining budget is spread over the time to
 * `X-RateLimit-Reset`, none left holds until then, and a 429 waits its `Retry-After`.
 *
 * Restore writes issues back: an edit (PUT) of summary, description, labels, priority and due
 * date if the issue still exists, else a new issue in its project with its comments added again;
 * status, history and attachments are not written. It needs the `write:jira-work` scope.
 */
import {
  AuthError,
  ConfigError,
  type Connector,
  ConnectorError,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  HighWaterMark,
  jsonContent,
  PlatformError,
  readRestoreJson,
  type ResponseInfo,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

const SEARCH_PAGE = 100;
const COMMENT_PAGE = 100;
const PROJECT_PAGE = 50;
const USER_PAGE = 100;
const WORKLOG_BATCH = 1000;
const FULL_RUN_JQL = 'updated >= "1970-01-01 00:00" ORDER BY updated ASC, key ASC';

type Json = Record<string, any>;

interface Issue {
  id: string;
  key: string;
  fields: Json & { updated?: string; project?: { id: string; key: string }; attachment?: Attachment[]; comment?: { comments?: Json[]; total?: number } };
}

interface Attachment {
  id: string;
  filename: string;
  size?: number;
  mimeType?: string;
  created?: string;
}

export function createJiraConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'jira',
    name: 'Jira',
    authType: 'oauth2',
    resources: [
      { name: 'issues', incremental: true, cursor: 'JQL updated >= the newest updated seen', restorable: true, description: 'Issues with all their fields and comments.' },
      { name: 'attachments', incremental: true, cursor: 'with their issue: JQL updated >= the newest updated seen', restorable: false, binaryContent: true, description: 'The files attached to issues.' },
      { name: 'projects', incremental: false, restorable: false, description: 'Projects with their description, lead and issue types.' },
      { name: 'worklogs', incremental: true, cursor: 'worklog/updated since the last run', restorable: false, description: 'Work logged on issues.' },
      { name: 'users', incremental: false, restorable: false, description: 'Users of the site.' },
    ],
    http: {
      platform: 'Jira',
      // The connection's own root (https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3) always comes in options.
      baseUrl: options.baseUrl ?? 'https://jira.invalid/rest/api/3',
      quota: readQuota,
      errorMessage: (body) => {
        const b = (body ?? {}) as Json;
        const messages = Array.isArray(b.errorMessages) ? b.errorMessages.filter((m: unknown) => typeof m === 'string') : [];
        const fields = b.errors && typeof b.errors === 'object' ? Object.entries(b.errors as Record<string, unknown>).map(([name, message]) => `${name}: ${String(message)}`) : [];
        const text = [...messages, ...fields].join('; ');
        return text || (typeof b.message === 'string' ? b.message : undefined);
      },
      errorCode: (body) => {
        const b = (body ?? {}) as Json;
        if (b.errors && typeof b.errors === 'object' && Object.keys(b.errors).length > 0) return Object.keys(b.errors)[0];
        return typeof b.code === 'number' ? String(b.code) : undefined;
      },
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'issues':
          return fetchIssues(ctx);
        case 'attachments':
          return fetchAttachments(ctx);
        case 'projects':
          return fetchProjects(ctx);
        case 'worklogs':
          return fetchWorklogs(ctx);
        case 'users':
          return fetchUsers(ctx);
        default:
          throw new ConfigError(`Jira has no resource ${resource}`);
      }
    },
    restore(resource, items, ctx) {
      if (resource !== 'issues') throw new ConfigError(`Jira cannot restore ${resource}; export it instead`);
      return restoreIssues(items, ctx);
    },
  };
}

/** Spreads what is left of the budget over the time to its reset once Jira says it is near. */
function readQuota(info: ResponseInfo): number | undefined {
  const reset = Date.parse(info.headers.get('x-ratelimit-reset') ?? '');
  const remaining = Number(info.headers.get('x-ratelimit-remaining') ?? Number.NaN);
  if (Number.isNaN(reset) || Number.isNaN(remaining)) return undefined;
  const untilReset = Math.max(0, reset - info.serverNow);
  if (remaining <= 0) return untilReset;
  if (info.headers.get('x-ratelimit-nearlimit') === 'true') return Math.ceil(untilReset / (remaining + 1));
  return undefined;
}

/** `yyyy-MM-dd HH:mm` of an instant in a time zone, as JQL reads dates. */
export function jqlMinute(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(ms).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** The issues updated since the cursor's mark, oldest first, each once; returns the next cursor. */
async function* searchIssues(ctx: FetchContext, fields: string): AsyncGenerator<Issue, Cursor, undefined> {
  const previous = HighWaterMark.read<number>((ctx.cursor as { mark?: unknown } | null | undefined)?.mark, 'number');
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<number>(previous);
  let jql = FULL_RUN_JQL;
  if (mark.since !== undefined) {
    const { data: me } = await ctx.http.json<{ timeZone?: string }>('myself');
    const timeZone = typeof me?.timeZone === 'string' && me.timeZone ? me.timeZone : 'UTC';
    jql = `updated >= "${jqlMinute(mark.since, timeZone)}" ORDER BY updated ASC, key ASC`;
  }
  const seen = new Set<string>();
  let token: string | undefined;
  for (;;) {
    const { data } = await ctx.http.json<Json>('search/jql', { query: { jql, fields, maxResults: SEARCH_PAGE, nextPageToken: token } });
    if (!Array.isArray(data?.issues)) throw new PlatformError('Jira: the search answer has no issues list');
    for (const issue of data.issues as Issue[]) {
      const at = Date.parse(issue.fields?.updated ?? '');
      if (seen.has(issue.id) || (!Number.isNaN(at) && mark.seenBefore(at, issue.id))) continue;
      seen.add(issue.id);
      if (!Number.isNaN(at)) mark.see(at, issue.id);
      yield issue;
    }
    const next = typeof data.nextPageToken === 'string' && data.nextPageToken ? data.nextPageToken : undefined;
    if (data.isLast === true || !next) break;
    if (next === token) throw new PlatformError('Jira: nextPageToken repeats itself');
    token = next;
  }
  const state = mark.state();
  return state ? { mark: state } : null;
}

async function* fetchIssues(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const issues = searchIssues(ctx, '*all');
  for (;;) {
    const next = await issues.next();
    if (next.done) return next.value;
    const issue = next.value;
    const comments = await commentsOf(ctx, issue);
    if (!comments) continue;
    const { comment: _embedded, ...fields } = issue.fields;
    const project = issue.fields.project?.key ?? 'unknown';
    yield {
      id: issue.id,
      path: `issues/${project}/${issue.key}.json`,
      updatedAt: isoOf(issue.fields.updated),
      changeMarker: issue.fields.updated,
      contentType: 'application/json',
      metadata: { key: issue.key, project, summary: issue.fields.summary ?? null, status: issue.fields.status?.name ?? null },
      content: jsonContent({ ...issue, fields, comments }),
    };
  }
}

/** Every comment of an issue: those the search carried when they are all, else paged; undefined when the issue is gone. */
async function commentsOf(ctx: FetchContext, issue: Issue): Promise<Json[] | undefined> {
  const embedded = issue.fields.comment;
  if (Array.isArray(embedded?.comments) && typeof embedded.total === 'number' && embedded.comments.length >= embedded.total) return embedded.comments;
  const comments: Json[] = [];
  for (let startAt = 0; ; ) {
    let page: Json;
    try {
      ({ data: page } = await ctx.http.json<Json>(`issue/${issue.id}/comment`, { query: { startAt, maxResults: COMMENT_PAGE } }));
    } catch (error) {
      if (error instanceof ConnectorError && error.status === 404) {
        ctx.log.info({ issue: issue.key }, 'issue deleted while listed, skipped');
        return undefined;
      }
      throw error;
    }
    const list = Array.isArray(page?.comments) ? page.comments : [];
    comments.push(...list);
    startAt += list.length;
    if (list.length === 0 || startAt >= Number(page.total ?? 0)) return comments;
  }
}

async function* fetchAttachments(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const issues = searchIssues(ctx, 'attachment,updated,project');
  for (;;) {
    const next = await issues.next();
    if (next.done) return next.value;
    const issue = next.value;
    const project = issue.fields.project?.key ?? 'unknown';
    for (const attachment of issue.fields.attachment ?? []) {
      yield {
        id: attachment.id,
        path: `attachments/${project}/${issue.key}/${attachment.id}-${attachment.filename.replace(/[/\\]/g, '_')}`,
        updatedAt: isoOf(attachment.created),
        // An attachment never changes: its id marks its content.
        changeMarker: attachment.id,
        size: attachment.size,
        contentType: attachment.mimeType,
        metadata: { issue: issue.key, issueId: issue.id, fileName: attachment.filename },
        // Without redirect=false Jira answers with a redirect to its media store.
        content: () => ctx.http.stream(`attachment/content/${attachment.id}`, { query: { redirect: false }, resumable: true }),
      };
    }
  }
}

async function* fetchProjects(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for (let startAt = 0; ; ) {
    const { data } = await ctx.http.json<Json>('project/search', { query: { startAt, maxResults: PROJECT_PAGE, expand: 'description,lead,issueTypes,url,projectKeys' } });
    const values: Json[] = Array.isArray(data?.values) ? data.values : [];
    for (const project of values) {
      yield { id: String(project.id), path: `projects/${project.key}.json`, contentType: 'application/json', metadata: { key: project.key, name: project.name ?? null }, content: jsonContent(project) };
    }
    startAt += values.length;
    if (data?.isLast !== false || values.length === 0) return undefined;
  }
}

async function* fetchUsers(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for (let startAt = 0; ; ) {
    const { data } = await ctx.http.json<Json[]>('users/search', { query: { startAt, maxResults: USER_PAGE } });
    if (!Array.isArray(data)) throw new PlatformError('Jira: users/search did not answer a list');
    for (const user of data) {
      yield { id: user.accountId, path: `users/${user.accountId}.json`, contentType: 'application/json', metadata: { displayName: user.displayName ?? null, accountType: user.accountType ?? null, active: user.active ?? null }, content: jsonContent(user) };
    }
    if (data.length < USER_PAGE) return undefined;
    startAt += data.length;
  }
}

async function* fetchWorklogs(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = (ctx.cursor as { since?: unknown } | null | undefined)?.since;
  if (ctx.cursor !== undefined && typeof previous !== 'number') ctx.log.warn('unreadable cursor, running in full');
  let since = typeof previous === 'number' ? previous : 0;
  let url: string | undefined = ctx.http.url('worklog/updated', { since }).toString();
  const visited = new Set<string>();
  while (url) {
    if (visited.has(url)) throw new PlatformError(`Jira: worklog/updated loops back to ${url}`);
    visited.add(url);
    const { data }: { data: Json } = await ctx.http.json<Json>(url);
    const ids: number[] = (Array.isArray(data?.values) ? data.values : []).map((v: { worklogId: number }) => v.worklogId);
    for (let i = 0; i < ids.length; i += WORKLOG_BATCH) {
      // Reading a list changes nothing: it may be sent again after a failure.
      const { data: worklogs } = await ctx.http.json<Json[]>('worklog/list', { method: 'POST', json: { ids: ids.slice(i, i + WORKLOG_BATCH) }, idempotent: true });
      for (const worklog of worklogs ?? []) {
        yield { id: String(worklog.id), path: `worklogs/${worklog.issueId}/${worklog.id}.json`, updatedAt: isoOf(worklog.updated), changeMarker: worklog.updated, contentType: 'application/json', metadata: { issueId: worklog.issueId, timeSpentSeconds: worklog.timeSpentSeconds ?? null }, content: jsonContent(worklog) };
      }
    }
    if (typeof data?.until === 'number') since = data.until;
    url = data?.lastPage === false && typeof data.nextPage === 'string' ? data.nextPage : undefined;
  }
  return { since };
}

function isoOf(value: string | undefined): string | undefined {
  const at = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

async function restoreIssues(items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  let restored = 0;
  for await (const item of items) {
    const issue = await readIssue(item);
    const fields: Json = {
      summary: issue.fields.summary,
      description: issue.fields.description ?? null,
      labels: Array.isArray(issue.fields.labels) ? issue.fields.labels : [],
      ...(issue.fields.priority?.id ? { priority: { id: issue.fields.priority.id } } : {}),
      ...(issue.fields.duedate !== undefined ? { duedate: issue.fields.duedate } : {}),
    };
    try {
      if (await issueExists(ctx, issue.id)) {
        await ctx.http.json(`issue/${issue.id}`, { method: 'PUT', json: { fields } });
      } else {
        const project = issue.fields.project;
        const { data } = await ctx.http.json<{ key: string }>('issue', { method: 'POST', json: { fields: { ...fields, project: { id: project.id }, issuetype: { id: issue.fields.issuetype?.id } } } });
        for (const comment of Array.isArray(issue.comments) ? issue.comments : []) {
          await ctx.http.json(`issue/${data.key}/comment`, { method: 'POST', json: { body: comment.body } });
        }
      }
    } catch (error) {
      if (error instanceof AuthError && /scope/i.test(error.message)) {
        throw new ConfigError('Jira refused to write the issue: restoring needs the write:jira-work scope (reconnect Jira)', { status: error.status, platformCode: error.platformCode });
      }
      throw error;
    }
    restored++;
  }
  return { restored, units: restored };
}

async function issueExists(ctx: RestoreContext, id: string): Promise<boolean> {
  try {
    await ctx.http.json(`issue/${id}`, { query: { fields: 'summary' } });
    return true;
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) return false;
    throw error;
  }
}

async function readIssue(item: RestoreItem): Promise<Json & { id: string; fields: Json & { summary: string; project: { id: string } } }> {
  const issue: any = await readRestoreJson(item, 'Jira', 'an issue');
  if (typeof issue?.id !== 'string' || typeof issue.fields?.summary !== 'string' || typeof issue.fields.project?.id !== 'string') throw new ConfigError(`Jira: ${item.path} is not an issue (no id, summary and project)`);
  return issue;
}
