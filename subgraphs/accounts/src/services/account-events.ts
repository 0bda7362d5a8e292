import type { Em } from '@listbackup/lib/db';
import { accessChangeOf } from '@listbackup/lib/access-facts';
import { actorOf, createEvent, type EventDataInput, type EventType } from '@listbackup/lib/events/contract';
import type { Actor } from '@listbackup/lib/events/envelope';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import { Membership } from '../entities/membership.ts';

/** Writes an event to the outbox in `em`'s unit of work, by the caller of the request (or `actor`). */
export function recordEvent<T extends EventType>(em: Em, ctx: SubgraphContext | { actor: Actor }, type: T, accountId: string, subject: string, data: EventDataInput<T>): void {
  const event = createEvent(type, accountId, subject, data, { actor: 'actor' in ctx ? ctx.actor : actorOf(ctx) });
  enqueueEvent(em, event);
  // Every gateway hears of it from the event; the one that sent this request also from the answer (lib/src/subgraph.ts).
  const change = 'access' in ctx ? accessChangeOf(event) : null;
  if (change) (ctx as SubgraphContext).access.noteChange(change);
}

/**
 * Events about a person rather than an account are filed under the user's oldest account where
 * they are an owner (normally their personal account), else their oldest membership, else the user's id.
 */
export async function userTenant(em: Em, userId: string): Promise<string> {
  const memberships = await em.find(Membership, { userId }, { orderBy: { createdAt: 'asc' }, limit: 50 });
  return (memberships.find((membership) => membership.role === 'owner') ?? memberships[0])?.accountId ?? userId;
}
