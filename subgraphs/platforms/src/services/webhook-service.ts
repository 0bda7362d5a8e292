import { findDefinition, type PlatformDefinition } from '@listbackup/catalogue';
import { verifyWebhook, type WebhookEvent, type WebhookRequest } from '@listbackup/catalogue/sdk/webhooks';
import type { Em } from '@listbackup/lib/db';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import { Connection } from '../entities/connection.ts';
import { WebhookDelivery } from '../entities/webhook-delivery.ts';
import type { PlatformsRuntime } from '../runtime.ts';
import { connectionEvent } from './connection-state.ts';
import { findPlatformBySlug } from './platform-service.ts';

/** What the platform is answered. */
export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface IncomingWebhook {
  platform: string;
  /** The connection the route names, for platforms whose webhook is registered per connection. */
  connectionId?: string;
  request: WebhookRequest;
  /** For the log lines. */
  requestId?: string;
}

const json = (status: number, body: unknown): WebhookAnswer => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) });
const refusal = (status: number, code: string, message: string) => json(status, { code, message });

/**
 * A platform's webhook, verified with this deployment's secrets for it: a handshake is answered; a
 * refused signature is 401 with its code and changes nothing; each event is recorded by its
 * delivery id (a replay is answered 200 and ignored) and, for each authorized connection whose
 * platform account it is about, published as `connection.webhook_received` in the same transaction
 * (sources queues the backups). A route naming a connection matches only that one, and only when the
 * delivery does not name another platform account.
 */
export async function receiveWebhook(runtime: PlatformsRuntime, em: Em, incoming: IncomingWebhook, definitionOf: (slug: string) => PlatformDefinition | undefined = findDefinition): Promise<WebhookAnswer> {
  const definition = definitionOf(incoming.platform);
  if (!definition?.webhooks) return refusal(404, 'WEBHOOK_UNKNOWN_PLATFORM', `ListBackup reads no webhooks of a platform named "${incoming.platform}"`);
  const secrets = runtime.webhookSecrets[definition.slug] ?? [];
  if (secrets.length === 0) return refusal(404, 'WEBHOOK_NOT_CONFIGURED', `This deployment has no webhook secret for ${definition.name}`);
  const log = runtime.log.child({ platform: definition.slug, route: 'webhook', requestId: incoming.requestId });

  let outcome: ReturnType<typeof verifyWebhook>;
  try {
    outcome = verifyWebhook(definition, incoming.request, secrets, new Date(runtime.now()));
  } catch (error) {
    log.warn({ err: error }, 'webhook could not be read');
    return refusal(400, 'WEBHOOK_MALFORMED', 'The delivery could not be read');
  }
  if (outcome.kind === 'refused') {
    log.info({ code: outcome.code }, 'webhook refused');
    return refusal(outcome.code === 'WEBHOOK_MALFORMED' ? 400 : 401, outcome.code, outcome.message);
  }
  if (outcome.kind === 'handshake') return { status: outcome.status, contentType: outcome.contentType, body: outcome.body };

  const named = incoming.connectionId;
  if (named !== undefined && !isUuid(named)) return refusal(404, 'WEBHOOK_CONNECTION_NOT_FOUND', 'No such connection');
  const platform = await findPlatformBySlug(em, definition.slug);
  if (!platform) return refusal(404, 'WEBHOOK_UNKNOWN_PLATFORM', `ListBackup reads no webhooks of a platform named "${incoming.platform}"`);
  const routed = named ? await em.findOne(Connection, { id: named, platformId: platform.id }) : null;
  if (named && !routed) return refusal(404, 'WEBHOOK_CONNECTION_NOT_FOUND', 'No such connection');

  let replayed = 0;
  let published = 0;
  await em.fork().transactional(async (tx) => {
    for (const event of outcome.events) {
      if (!(await recordDelivery(tx, definition.slug, event))) {
        replayed++;
        continue;
      }
      if (event.resources.length === 0) continue;
      for (const connection of await matchingConnections(tx, platform.id, event, routed, definition.webhooks?.accountParam)) {
        enqueueEvent(tx, connectionEvent('connection.webhook_received', connection, definition.slug, { deliveryId: event.deliveryId, eventType: event.type, resources: event.resources }));
        published++;
      }
    }
  });
  log.info({ events: outcome.events.length, replayed, published, connectionId: routed?.id }, 'webhook received');
  return json(200, { received: outcome.events.length, replayed });
}

/** False when the platform's delivery id was recorded before: a replay. */
async function recordDelivery(tx: Em, platform: string, event: WebhookEvent): Promise<boolean> {
  const result = await tx
    .createQueryBuilder(WebhookDelivery)
    .insert({ platform, deliveryId: event.deliveryId, eventType: event.type, receivedAt: new Date() })
    .onConflict(['platform', 'deliveryId'])
    .ignore()
    .execute('run');
  return result.affectedRows > 0;
}

/** The authorized connections of the platform account the event is about; never one of another platform account. */
async function matchingConnections(tx: Em, platformId: string, event: WebhookEvent, routed: Connection | null, accountParam: string | undefined): Promise<Connection[]> {
  // Where the platform names its account by a connection parameter (Shopify's shop domain), that is what is matched.
  const accountOf = (connection: Connection) => (accountParam ? connection.params?.[accountParam] : connection.externalAccountId);
  if (routed) {
    const sameAccount = event.accountId === undefined || accountOf(routed) === event.accountId;
    return sameAccount && routed.status === 'AUTHORIZED' ? [routed] : [];
  }
  if (event.accountId === undefined) return [];
  const account = accountParam ? { params: { [accountParam]: event.accountId } } : { externalAccountId: event.accountId };
  return tx.find(Connection, { platformId, status: 'AUTHORIZED', ...account }, { orderBy: { id: 'asc' } });
}
