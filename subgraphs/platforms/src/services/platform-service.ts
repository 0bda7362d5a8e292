import { randomUUID } from 'node:crypto';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError, ValidationError } from '@listbackup/lib/errors';
import { isUuid } from '@listbackup/lib/ids';
import type { PlatformsContext } from '../context.ts';
import { Platform, type PlatformCategory, type PlatformSpec } from '../entities/platform.ts';
import { PLATFORM_DEFINITIONS, authTypesOf, findDefinition, platformResources, type CatalogueResource, type PlatformDefinition } from '@listbackup/catalogue';
import { CODES, ConnectionError } from './connection-state.ts';

/**
 * Brings the platforms table in line with the catalogue in code: new platforms are inserted,
 * changed entries updated, ids kept. Safe when several replicas start at once. Platforms dropped
 * from the catalogue stay, because connections may still point at them.
 */
export async function syncPlatformCatalogue(em: Em, definitions: readonly PlatformDefinition[] = PLATFORM_DEFINITIONS): Promise<void> {
  if (definitions.length === 0) return;
  await em
    .createQueryBuilder(Platform)
    .insert(
      definitions.map(({ slug, name, category, description, ...spec }) => ({
        id: randomUUID(),
        slug,
        name,
        category,
        description,
        authTypes: authTypesOf(spec),
        spec: spec satisfies PlatformSpec,
      })),
    )
    .onConflict('slug')
    .merge(['name', 'category', 'description', 'authTypes', 'spec'])
    .execute();
}

export interface PlatformFilter {
  category?: PlatformCategory | null;
  search?: string | null;
}

/** The catalogue is public: every caller, signed in or not, may read it. */
export async function listPlatforms(ctx: PlatformsContext, filter: PlatformFilter = {}): Promise<Platform[]> {
  const where: Record<string, unknown> = {};
  if (filter.category) where.category = filter.category;
  const search = filter.search?.trim();
  if (search) {
    if (search.length > 100) throw new ValidationError('search is limited to 100 characters', 'search');
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.$or = [{ name: { $ilike: pattern } }, { slug: { $ilike: pattern } }, { description: { $ilike: pattern } }];
  }
  return ctx.em.find(Platform, where, { orderBy: { name: 'asc' } });
}

/** What the platform's connector implements; a platform the code no longer has offers nothing. */
export function listPlatformResources(platform: Platform): CatalogueResource[] {
  return platformResources(platform.slug);
}

export async function getPlatform(ctx: PlatformsContext, id: string): Promise<Platform> {
  const platform = await ctx.loaders.platform.load(id);
  if (!platform) throw new NotFoundError('Platform');
  return platform;
}

/** `platform(id | slug)`: exactly one of the two. */
export async function findPlatform(ctx: PlatformsContext, by: { id?: string | null; slug?: string | null }): Promise<Platform> {
  if (Boolean(by.id) === Boolean(by.slug)) throw new ValidationError('Give either id or slug');
  const platform = by.id ? await ctx.loaders.platform.load(by.id) : await ctx.em.findOne(Platform, { slug: by.slug! });
  if (!platform) throw new NotFoundError('Platform');
  return platform;
}

export async function findPlatformBySlug(em: Em, slug: string): Promise<Platform | null> {
  return em.findOne(Platform, { slug });
}

/**
 * The platform a new connection is for, by id or slug, with its definition. A platform the
 * catalogue does not have, or that the code no longer supports, is UNKNOWN_PLATFORM.
 */
export async function platformForNewConnection(
  ctx: PlatformsContext,
  input: { platformId?: string | null; platformSlug?: string | null },
): Promise<{ platform: Platform; definition: PlatformDefinition }> {
  if (Boolean(input.platformId) === Boolean(input.platformSlug)) throw new ValidationError('Give either platformId or platformSlug', 'platformId');
  let platform: Platform | null | undefined;
  if (input.platformId) platform = isUuid(input.platformId) ? await ctx.loaders.platform.load(input.platformId) : undefined;
  else platform = await findPlatformBySlug(ctx.em, input.platformSlug!);
  const definition = platform ? findDefinition(platform.slug) : undefined;
  if (!platform || !definition) {
    const given = input.platformId ?? input.platformSlug;
    throw new ConnectionError(CODES.UNKNOWN_PLATFORM, `Unknown platform "${given}". See the platforms query for the ones ListBackup supports.`, {
      field: input.platformId ? 'platformId' : 'platformSlug',
    });
  }
  return { platform, definition };
}
