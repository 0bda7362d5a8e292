import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

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

/** One entry of the platform catalogue; the rows mirror `registry.ts`, upserted at start. */
export const PlatformSchema = defineEntity({
  name: 'Platform',
  tableName: 'platforms',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    slug: p.text().unique(),
    name: p.text(),
    category: p.enum(PLATFORM_CATEGORIES),
  },
});

export class Platform extends PlatformSchema.class {}
PlatformSchema.setClass(Platform);
