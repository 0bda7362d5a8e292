import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { PlatformDefinition } from '../registry.ts';

export const PLATFORM_CATEGORIES = [
  'PAYMENTS',
  'COMMERCE',
  'CRM',
  'ACCOUNTING',
  'DEVELOPER',
  'FILES',
  'COMMUNICATION',
  'PRODUCTIVITY',
  'SUPPORT',
  'MARKETING',
  'DATABASE',
  'OTHER',
] as const;
export type PlatformCategory = (typeof PLATFORM_CATEGORIES)[number];

/** What the catalogue row keeps of a registry entry besides its columns. */
export type PlatformSpec = Omit<PlatformDefinition, 'slug' | 'name' | 'category' | 'description'>;

/** One entry of the platform catalogue; the rows mirror `registry.ts`, upserted at start. */
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
    /** The rest of the registry entry (endpoints, scopes, resources, rate limits), as of the last sync. */
    spec: p.json<PlatformSpec>().nullable(),
  },
});

export class Platform extends PlatformSchema.class {}
PlatformSchema.setClass(Platform);
