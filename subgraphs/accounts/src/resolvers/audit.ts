import type { AuditActorKind, AuditLogFilter as GraphQLFilter, Resolvers } from '../generated/resolvers.ts';
import { listAuditEntries, verifyAuditLog, type AuditLogFilter } from '../services/audit-log.ts';
import { exportAuditLog } from '../services/audit-export.ts';

const ACTOR_KIND = { user: 'USER', apiKey: 'API_KEY', system: 'SYSTEM', anonymous: 'ANONYMOUS' } as const satisfies Record<string, AuditActorKind>;
const FROM_GRAPHQL = Object.fromEntries(Object.entries(ACTOR_KIND).map(([key, value]) => [value, key])) as Record<AuditActorKind, keyof typeof ACTOR_KIND>;

function filterOf(filter: GraphQLFilter | null | undefined): AuditLogFilter {
  if (!filter) return {};
  return { ...filter, actorKind: filter.actorKind ? FROM_GRAPHQL[filter.actorKind] : null, from: filter.from ? new Date(filter.from) : null, to: filter.to ? new Date(filter.to) : null };
}

/** The audit log: reading, verifying and exporting an account's entries. */
export const auditResolvers = {
  Account: {
    auditLog: (account, { filter, first, after }, ctx) => listAuditEntries(ctx, account.id, filterOf(filter), first, after),
    auditLogVerification: (account, _, ctx) => verifyAuditLog(ctx, account.id),
  },
  Mutation: {
    exportAuditLog: (_, { accountId, format, filter }, ctx) => exportAuditLog(ctx, accountId, format, filterOf(filter)),
  },
  AuditEntry: {
    actor: (entry) => ({ kind: ACTOR_KIND[entry.actorKind as keyof typeof ACTOR_KIND] ?? 'SYSTEM', id: entry.actorId, ip: entry.actorIp, userAgent: entry.actorUserAgent }),
    target: (entry) => (entry.targetType && entry.targetId ? { type: entry.targetType, id: entry.targetId } : null),
    details: (entry) => entry.details,
  },
} satisfies Resolvers;
