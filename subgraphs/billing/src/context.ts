import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId, groupBy } from '@listbackup/lib/loaders';
import { Plan } from './entities/plan.ts';
import { PlanSubscription } from './entities/plan-subscription.ts';
import { isUuid } from '@listbackup/lib/ids';

export interface BillingContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
}

// Ids come from clients and other subgraphs; a malformed one is simply not found (Postgres would reject it).
const uuids = (ids: readonly string[]) => ids.filter((id) => isUuid(id));

export function createLoaders(em: Em) {
  return {
    plan: new DataLoader<string, Plan | undefined>(async (ids) => byId(ids, await em.find(Plan, { id: { $in: uuids(ids) } }))),
    subscriptionByAccount: new DataLoader<string, PlanSubscription | null>(async (accountIds) =>
      groupBy(accountIds, await em.find(PlanSubscription, { accountId: { $in: uuids(accountIds) } }), (s) => s.accountId).map((rows) => rows[0] ?? null),
    ),
  };
}

export const extendContext = (base: SubgraphContext): BillingContext => ({ ...base, loaders: createLoaders(base.em) });
