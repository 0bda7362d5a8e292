import { randomUUID } from 'node:crypto';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import type { PlatformsContext } from '../context.ts';
import { Platform } from '../entities/platform.ts';
import { PLATFORM_REGISTRY, type PlatformDefinition } from '../registry.ts';

/**
 * Brings the catalogue table in line with the registry in code: new platforms are inserted,
 * changed names and categories updated, ids kept. Safe when several replicas start at once.
 * Platforms dropped from the registry stay, because connections may still point at them.
 */
export async function syncPlatformCatalogue(em: Em, registry: readonly PlatformDefinition[] = PLATFORM_REGISTRY): Promise<void> {
  if (registry.length === 0) return;
  await em
    .createQueryBuilder(Platform)
    .insert(registry.map((platform) => ({ id: randomUUID(), slug: platform.slug, name: platform.name, category: platform.category })))
    .onConflict('slug')
    .merge(['name', 'category'])
    .execute();
}

/** The catalogue is public: every caller, signed in or not, may read it. */
export async function listPlatforms(ctx: PlatformsContext): Promise<Platform[]> {
  return ctx.em.find(Platform, {}, { orderBy: { name: 'asc' } });
}

export async function getPlatform(ctx: PlatformsContext, id: string): Promise<Platform> {
  const platform = await ctx.loaders.platform.load(id);
  if (!platform) throw new NotFoundError('Platform');
  return platform;
}

export async function findPlatformBySlug(em: Em, slug: string): Promise<Platform | null> {
  return em.findOne(Platform, { slug });
}
