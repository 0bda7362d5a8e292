import { authorize } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import type { SourcesContext } from '../context.ts';
import { Source } from '../entities/source.ts';

/** A source the caller may read; any other is "not found", whether it exists or not. */
export async function getSource(ctx: SourcesContext, id: string): Promise<Source> {
  const source = await ctx.loaders.source.load(id);
  if (!source) throw new NotFoundError('Source');
  await authorize(ctx, 'sources:read', source.accountId, 'Source');
  return source;
}

export async function listSources(ctx: SourcesContext, accountId: string): Promise<Source[]> {
  await authorize(ctx, 'sources:read', accountId);
  return ctx.loaders.sourcesByAccount.load(accountId);
}

export interface NewSource {
  accountId: string;
  connectionId: string;
  name: string;
  resources?: string[];
  paused?: boolean;
  createdAt?: Date;
}

/** Writes a source without any authorization: for seeding and tests. */
export async function createSourceRecord(em: Em, input: NewSource): Promise<Source> {
  const source = em.create(Source, {
    accountId: input.accountId,
    connectionId: input.connectionId,
    name: input.name,
    resources: input.resources ?? [],
    paused: input.paused ?? false,
    createdAt: input.createdAt ?? new Date(),
  });
  await em.persist(source).flush();
  return source;
}
