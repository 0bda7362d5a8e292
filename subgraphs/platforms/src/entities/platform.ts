import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { PLATFORM_CATEGORIES, type PlatformDefinition } from '@listbackup/catalogue';

export { PLATFORM_CATEGORIES, type PlatformCategory } from '@listbackup/catalogue';


/** What the catalogue row keeps of a platform's definition besides its columns. */
export type PlatformSpec = Omit<PlatformDefinition, 'slug' | 'name' | 'category' | 'description'>;

/** One platform of the catalogue; the rows mirror `@listbackup/catalogue`, upserted at start. */
export const PlatformSchema = defineEntity({
  name: 'Platform',
  tableName: 'platforms',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    slug: p.text().unique(),
    name: p.text(),
    category: p.enum(PLATFORM_CATEGORIES),
    description: p.text().nullable(),
    /** `OAUTH2`, `API_KEY`: the ways to connect it. */
    authTypes: p.array().nullable(),
    /** The rest of the definition (endpoints, scopes, rate limits, webhooks), as of the last sync. */
    spec: p.json<PlatformSpec>().nullable(),
  },
});

export class Platform extends PlatformSchema.class {}
PlatformSchema.setClass(Platform);
