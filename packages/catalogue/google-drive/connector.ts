/**
 * Google Drive (API v3): every file the token can read, with its contents. Binary files are
 * streamed from `files/{id}?alt=media` (resumed with `Range` when the connection drops); Docs
 * Editors files are exported (`files/{id}/export`) to their Office format. Listing uses
 * `pageToken`/`nextPageToken` and `fields`; incremental runs ask for `modifiedTime >=` the
 * previous high-water mark. Paths follow the folder tree.
 */
import { z } from 'zod';
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  eachItem,
  type FetchContext,
  HighWaterMark,
  type ResponseInfo,
  paginateToken,
  type Verdict,
} from '../sdk/index.ts';

export const GOOGLE_DRIVE_API_URL = 'https://www.googleapis.com/drive/v3';

const FOLDER = 'application/vnd.google-apps.folder';

/** Docs Editors types and the format each is exported to. Other Google types have no content to export. */
export const DRIVE_EXPORTS: Record<string, { mimeType: string; extension: string }> = {
  'application/vnd.google-apps.document': { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', extension: '.docx' },
  'application/vnd.google-apps.spreadsheet': { mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', extension: '.xlsx' },
  'application/vnd.google-apps.presentation': { mimeType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', extension: '.pptx' },
  'application/vnd.google-apps.drawing': { mimeType: 'image/svg+xml', extension: '.svg' },
  'application/vnd.google-apps.script': { mimeType: 'application/vnd.google-apps.script+json', extension: '.json' },
};

const RATE_LIMIT_REASONS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'sharingRateLimitExceeded']);
const QUOTA_REASONS = new Set(['dailyLimitExceeded', 'quotaExceeded']);

const FILE_FIELDS = 'id,name,mimeType,parents,modifiedTime,createdTime,size,md5Checksum,webViewLink';

const settingsSchema = z.object({
  /** Include files in shared drives the user belongs to (default true). */
  includeSharedDrives: z.boolean().default(true),
});
export type GoogleDriveSettings = z.infer<typeof settingsSchema>;

interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  parents?: string[];
  modifiedTime: string;
  createdTime?: string;
  size?: string;
  md5Checksum?: string;
  webViewLink?: string;
}

export function createGoogleDriveConnector(options: { baseUrl?: string } = {}): Connector<GoogleDriveSettings> {
  return {
    slug: 'google-drive',
    name: 'Google Drive',
    authType: 'oauth2',
    settingsSchema,
    resources: [
      {
        name: 'files',
        incremental: true,
        cursor: 'modifiedTime',
        binaryContent: true,
        description: 'Files with their contents; Google Docs, Sheets and Slides exported to Office formats.',
      },
    ],
    http: {
      platform: 'Google Drive',
      baseUrl: options.baseUrl ?? GOOGLE_DRIVE_API_URL,
      classify: classifyGoogle,
      errorCode: (body) => {
        const error = (body as { error?: { errors?: { reason?: string }[]; status?: string } } | undefined)?.error;
        return error?.errors?.[0]?.reason ?? error?.status;
      },
    },
    fetch(resource, ctx) {
      if (resource !== 'files') throw new ConfigError(`Google Drive has no resource ${resource}`);
      return fetchFiles(ctx);
    },
  };
}

async function* fetchFiles(ctx: FetchContext<GoogleDriveSettings>): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = HighWaterMark.read<string>(ctx.cursor, 'string');
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<string>(previous);
  const shared = ctx.settings.includeSharedDrives ? { supportsAllDrives: true, includeItemsFromAllDrives: true } : {};

  const folders = new Map<string, { name: string; parents?: string[] }>();
  const folderPages = paginateToken<DriveFile>(ctx.http, 'files', {
    query: { q: `mimeType = '${FOLDER}' and trashed = false`, fields: 'nextPageToken,files(id,name,parents)', pageSize: 1000, ...shared },
    items: files,
  });
  for await (const folder of eachItem(folderPages)) folders.set(folder.id, { name: folder.name, parents: folder.parents });

  const clauses = [`mimeType != '${FOLDER}'`, 'trashed = false'];
  if (mark.since) clauses.push(`modifiedTime >= '${mark.since}'`);
  const filePages = paginateToken<DriveFile>(ctx.http, 'files', {
    query: { q: clauses.join(' and '), fields: `nextPageToken,files(${FILE_FIELDS})`, pageSize: 1000, ...shared },
    items: files,
  });
  for await (const file of eachItem(filePages)) {
    if (mark.seenBefore(file.modifiedTime, file.id)) continue;
    const item = toItem(ctx, file, folders);
    mark.see(file.modifiedTime, file.id);
    if (item) yield item;
  }
  return mark.state() ?? null;
}

function toItem(ctx: FetchContext<GoogleDriveSettings>, file: DriveFile, folders: Map<string, { name: string; parents?: string[] }>): ConnectorItem | undefined {
  const base = { mimeType: file.mimeType, webViewLink: file.webViewLink ?? null, createdTime: file.createdTime ?? null, parents: file.parents ?? [] };
  const folderPath = pathOf(file.parents, folders);
  if (file.mimeType.startsWith('application/vnd.google-apps.')) {
    const target = DRIVE_EXPORTS[file.mimeType];
    if (!target) {
      ctx.log.debug({ fileId: file.id, mimeType: file.mimeType }, 'no exportable content, skipped');
      return undefined;
    }
    return {
      id: file.id,
      path: `${folderPath}/${safeName(file.name)}${target.extension}`,
      updatedAt: file.modifiedTime,
      contentType: target.mimeType,
      metadata: { ...base, exportedAs: target.mimeType },
      content: () => ctx.http.stream(`files/${encodeURIComponent(file.id)}/export`, { query: { mimeType: target.mimeType } }),
    };
  }
  return {
    id: file.id,
    path: `${folderPath}/${safeName(file.name)}`,
    updatedAt: file.modifiedTime,
    size: file.size === undefined ? undefined : Number(file.size),
    contentType: file.mimeType,
    metadata: { ...base, md5Checksum: file.md5Checksum ?? null },
    content: () => ctx.http.stream(`files/${encodeURIComponent(file.id)}`, { query: { alt: 'media', supportsAllDrives: true }, resumable: true }),
  };
}

/** "My Drive/a/b" for a file under folders a/b; "Shared with me" for files outside the user's tree. */
function pathOf(parents: string[] | undefined, folders: Map<string, { name: string; parents?: string[] }>): string {
  if (!parents?.length) return 'Shared with me';
  const names: string[] = [];
  const visited = new Set<string>();
  let current: string | undefined = parents[0];
  while (current && folders.has(current) && !visited.has(current)) {
    visited.add(current);
    const folder: { name: string; parents?: string[] } = folders.get(current)!;
    names.unshift(safeName(folder.name));
    current = folder.parents?.[0];
  }
  return ['My Drive', ...names].join('/');
}

function files(body: unknown): DriveFile[] {
  const list = (body as { files?: unknown })?.files;
  return Array.isArray(list) ? (list as DriveFile[]) : [];
}

function safeName(name: string): string {
  return name.replace(/[/\\]/g, '_') || '(untitled)';
}

/** Google answers rate limits as 403 with a reason in the body; daily quotas will not heal within a job. */
function classifyGoogle(info: ResponseInfo): Verdict | undefined {
  if (info.status !== 403 && info.status !== 429) return undefined;
  const reasons = ((info.body as { error?: { errors?: { reason?: string }[] } } | undefined)?.error?.errors ?? []).map((e) => e.reason ?? '');
  if (reasons.some((r) => QUOTA_REASONS.has(r))) return { kind: 'rateLimited', retryAfterMs: 3600_000 };
  if (reasons.some((r) => RATE_LIMIT_REASONS.has(r))) return { kind: 'rateLimited' };
  return undefined;
}
