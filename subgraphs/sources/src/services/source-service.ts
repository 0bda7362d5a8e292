import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { authorize } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { AppError, NotFoundError } from '@listbackup/lib/errors';
import { normalizeName } from '@listbackup/lib/text';
import { actorOf, createEvent, type EventDataInput } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { SourcesContext } from '../context.ts';
import { Source, type ScheduleKind } from '../entities/source.ts';
import { Snapshot } from '../entities/snapshot.ts';
import { assertAuthorized, type ConnectionInfo } from '@listbackup/lib/platforms-client';
import { nextRun, shortestInterval, validateSchedule, type ScheduleInput } from './schedule.ts';
import { retentionDays, validateRetention, type Retention, type RetentionInput } from './retention.ts';
import { decodeNameCursor, nameCursor, pageSize, toPage, type Page } from '@listbackup/lib/pagination';
import { assertPlanAllows, assertRoomForSource, lockPlan } from './plan-limits.ts';

/**
 * A source the caller may read; any other is "not found", whether it exists or not. A deleted
 * source is still found (with `deletedAt`): jobs and snapshots keep referring to it.
 */
export async function getSource(ctx: SourcesContext, id: string): Promise<Source> {
  const source = await ctx.loaders.source.load(id);
  if (!source) throw new NotFoundError('Source');
  await authorize(ctx, 'sources:read', source.accountId, 'Source');
  return source;
}

/** A page of an account's live sources, by name. */
export async function listSources(ctx: SourcesContext, accountId: string, first?: number | null, after?: string | null): Promise<Page<Source>> {
  const size = pageSize(first);
  const scope = { list: 'Account.sources', owner: accountId };
  const cursor = decodeNameCursor(scope, after);
  await authorize(ctx, 'sources:read', accountId);
  const rows = await ctx.loaders.sourcePages.load({ parentId: accountId, limit: size + 1, after: cursor && [cursor.name, cursor.id] });
  return toPage(rows, size, (source) => nameCursor(scope, source.name, source.id));
}

export interface CreateSourceInput {
  accountId: string;
  connectionId: string;
  name: string;
  resources: string[];
  schedule: ScheduleInput;
  retention: RetentionInput;
}

export interface UpdateSourceInput {
  name?: string | null;
  resources?: string[] | null;
  schedule?: ScheduleInput | null;
  retention?: RetentionInput | null;
}

const MAX_NAME_LENGTH = 200;
const MAX_RESOURCES = 200;

const badInput = (reason: string, message: string, field: string, extra: Record<string, unknown> = {}) =>
  new AppError('BAD_USER_INPUT', message, { reason, field, ...extra });

function validateName(name: string): string {
  const trimmed = normalizeName(name);
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) throw badInput('INVALID_NAME', `A source name has 1 to ${MAX_NAME_LENGTH} characters`, 'name');
  return trimmed;
}

function normalizeResources(resources: string[]): string[] {
  const unique = [...new Set(resources.map((resource) => resource.trim()))];
  if (unique.length === 0 || unique.some((resource) => resource.length === 0)) throw badInput('UNKNOWN_RESOURCE', 'Choose at least one resource to back up', 'resources');
  if (unique.length > MAX_RESOURCES) throw badInput('UNKNOWN_RESOURCE', `A source has at most ${MAX_RESOURCES} resources`, 'resources');
  return unique;
}

function checkResources(connection: ConnectionInfo, resources: string[]): void {
  const known = new Set(connection.resources.map((resource) => resource.name));
  const unknown = resources.filter((resource) => !known.has(resource));
  if (unknown.length) {
    throw badInput(
      'UNKNOWN_RESOURCE',
      `${connection.platform.slug} has no resource ${unknown.map((r) => `"${r}"`).join(', ')}; it offers ${[...known].join(', ') || 'none'}`,
      'resources',
      { unknown, available: [...known] },
    );
  }
}

type SourceEventType = 'source.created' | 'source.updated' | 'source.paused' | 'source.resumed' | 'source.deleted' | 'data.deleted';

/** An event about the source, by the caller; the data names the account and the source, then what the type adds. */
function sourceEvent<T extends SourceEventType>(ctx: SourcesContext, type: T, source: Source, data: Omit<EventDataInput<T>, 'accountId' | 'sourceId'>) {
  return createEvent(type, source.accountId, source.id, { accountId: source.accountId, sourceId: source.id, ...data } as EventDataInput<T>, { actor: actorOf(ctx) });
}

/**
 * The source's state after a change, carried by every `source.*` event, so a consumer keeps it
 * without asking (jobs' analytics keep the schedule, the pause and the platform). The platform is
 * known when the source is created (it is its connection's, for good).
 */
function sourceState(source: Source, platform?: ConnectionInfo['platform']) {
  const interval = shortestInterval(scheduleOf(source));
  return {
    name: source.name,
    schedule: scheduleOf(source),
    backupIntervalMinutes: interval == null ? null : Math.floor(interval / 60_000),
    retentionDays: retentionDays(source),
    paused: source.paused,
    deletedAt: source.deletedAt?.toISOString() ?? null,
    ...(platform ? { platform: { id: platform.id, slug: platform.slug } } : {}),
  };
}

/**
 * Creates a source on an AUTHORIZED connection of the same account. Every check runs before
 * anything is written, so a refused source leaves no trace. The plan's limits (sources, schedule,
 * retention) are checked in the transaction, under the account's plan lock.
 */
export async function createSource(ctx: SourcesContext, input: CreateSourceInput): Promise<Source> {
  await authorize(ctx, 'sources:manage', input.accountId);
  const name = validateName(input.name);
  const schedule = validateSchedule(input.schedule);
  const retention = validateRetention(input.retention);
  const resources = normalizeResources(input.resources);
  const connection = await ctx.platforms.inAccount(ctx, input.accountId, input.connectionId);
  assertAuthorized(connection, 'creating a source');
  checkResources(connection, resources);
  const now = new Date();
  return ctx.em.fork().transactional(async (tx) => {
    const plan = await lockPlan(tx, input.accountId);
    assertPlanAllows(plan, { schedule, retention });
    await assertRoomForSource(tx, plan, input.accountId);
    const source = tx.create(Source, {
      id: randomUUID(),
      accountId: input.accountId,
      connectionId: connection.id,
      name,
      resources,
      paused: false,
      scheduleKind: schedule.kind,
      cron: schedule.cron,
      timeZone: schedule.timeZone,
      nextRunAt: nextRun(schedule, now),
      ...retention,
      createdAt: now,
      updatedAt: now,
    });
    enqueueEvent(tx, sourceEvent(ctx, 'source.created', source, { connectionId: source.connectionId, resources, schedule, source: sourceState(source, connection.platform) }));
    return source;
  });
}

/** Authorizes a change to a live source and returns it fresh, locked, in the given transaction. */
async function lockForChange(ctx: SourcesContext, tx: Em, id: string): Promise<Source> {
  const readable = await getSource(ctx, id);
  await authorize(ctx, 'sources:manage', readable.accountId, 'Source');
  // A deleted source can no longer be changed.
  const source = await tx.findOne(Source, { id: readable.id, deletedAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!source) throw new NotFoundError('Source');
  return source;
}

export async function updateSource(ctx: SourcesContext, id: string, input: UpdateSourceInput): Promise<Source> {
  const name = input.name != null ? validateName(input.name) : undefined;
  const schedule = input.schedule ? validateSchedule(input.schedule) : undefined;
  const retention = input.retention ? validateRetention(input.retention) : undefined;
  const resources = input.resources ? normalizeResources(input.resources) : undefined;
  if (resources) {
    // Checked against the platform before the transaction: no lock held across the HTTP call.
    const current = await getSource(ctx, id);
    await authorize(ctx, 'sources:manage', current.accountId, 'Source');
    if (current.deletedAt) throw new NotFoundError('Source');
    checkResources(await ctx.platforms.inAccount(ctx, current.accountId, current.connectionId), resources);
  }
  return ctx.em.fork().transactional(async (tx) => {
    const source = await lockForChange(ctx, tx, id);
    if (schedule || retention) assertPlanAllows(await lockPlan(tx, source.accountId), { schedule, retention });
    if (name !== undefined) source.name = name;
    if (resources) source.resources = resources;
    if (retention) Object.assign(source, retention);
    if (schedule) {
      source.scheduleKind = schedule.kind;
      source.cron = schedule.cron;
      source.timeZone = schedule.timeZone;
      source.nextRunAt = source.paused ? null : nextRun(schedule, new Date());
    }
    source.updatedAt = new Date();
    enqueueEvent(tx, sourceEvent(ctx, 'source.updated', source, { changed: Object.keys(input).filter((key) => input[key as keyof UpdateSourceInput] != null), source: sourceState(source) }));
    return source;
  });
}

export async function pauseSource(ctx: SourcesContext, id: string): Promise<Source> {
  return ctx.em.fork().transactional(async (tx) => {
    const source = await lockForChange(ctx, tx, id);
    if (source.paused) return source;
    source.paused = true;
    source.nextRunAt = null;
    source.updatedAt = new Date();
    enqueueEvent(tx, sourceEvent(ctx, 'source.paused', source, { source: sourceState(source) }));
    return source;
  });
}

/** Scheduled backups start again from the schedule's next occurrence (missed ones are not caught up). */
export async function resumeSource(ctx: SourcesContext, id: string): Promise<Source> {
  return ctx.em.fork().transactional(async (tx) => {
    const source = await lockForChange(ctx, tx, id);
    if (!source.paused) return source;
    source.paused = false;
    source.nextRunAt = nextRun(scheduleOf(source), new Date());
    source.updatedAt = new Date();
    enqueueEvent(tx, sourceEvent(ctx, 'source.resumed', source, { source: sourceState(source) }));
    return source;
  });
}

/**
 * Deletes a source: no more backups, gone from lists. Its snapshots stay restorable unless
 * `withSnapshots`; then they leave the catalogue too and `data.deleted` names their manifests, on
 * which jobs queues a GC of the account that frees the data no other snapshot uses.
 */
export async function deleteSource(ctx: SourcesContext, id: string, withSnapshots: boolean): Promise<boolean> {
  await ctx.em.fork().transactional(async (tx) => {
    const source = await lockForChange(ctx, tx, id);
    source.deletedAt = new Date();
    source.nextRunAt = null;
    source.updatedAt = new Date();
    if (withSnapshots) {
      const snapshots = await tx.find(Snapshot, { sourceId: source.id, accountId: source.accountId });
      if (snapshots.length) {
        await tx.nativeDelete(Snapshot, { id: { $in: snapshots.map((s) => s.id) } });
        enqueueEvent(tx, sourceEvent(ctx, 'data.deleted', source, { snapshots: snapshots.map((s) => ({ id: s.id, manifestKey: s.manifestKey })) }));
      }
    }
    enqueueEvent(tx, sourceEvent(ctx, 'source.deleted', source, { withSnapshots, source: sourceState(source) }));
  });
  return true;
}

export const scheduleOf = (source: Source): { kind: ScheduleKind; cron: string | null; timeZone: string | null } => ({
  kind: source.scheduleKind,
  cron: source.cron ?? null,
  timeZone: source.timeZone ?? null,
});

export interface NewSource {
  accountId: string;
  connectionId: string;
  name: string;
  resources?: string[];
  paused?: boolean;
  createdAt?: Date;
  schedule?: { kind: ScheduleKind; cron?: string; timeZone?: string };
  nextRunAt?: Date | null;
  retention?: Partial<Retention>;
}

/** Writes a source without any authorization or checks: for seeding and tests. */
export async function createSourceRecord(em: Em, input: NewSource): Promise<Source> {
  const createdAt = input.createdAt ?? new Date();
  const source = em.create(Source, {
    accountId: input.accountId,
    connectionId: input.connectionId,
    name: input.name,
    resources: input.resources ?? [],
    paused: input.paused ?? false,
    scheduleKind: input.schedule?.kind ?? 'MANUAL',
    cron: input.schedule?.cron ?? null,
    timeZone: input.schedule?.timeZone ?? null,
    nextRunAt: input.nextRunAt ?? null,
    keepLast: input.retention?.keepLast ?? 7,
    keepDaily: input.retention?.keepDaily ?? 0,
    keepWeekly: input.retention?.keepWeekly ?? 0,
    keepMonthly: input.retention?.keepMonthly ?? 0,
    createdAt,
    updatedAt: createdAt,
  });
  await em.persist(source).flush();
  return source;
}
