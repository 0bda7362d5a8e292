import { LockMode } from '@mikro-orm/core';
import type { Orm } from '@listbackup/lib/db';
import { metrics } from '@listbackup/lib/metrics';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import { createEvent, systemActor } from '@listbackup/lib/events/contract';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { Logger } from '@listbackup/lib/logger';
import { Notification } from '../entities/notification.ts';
import { NotificationEndpoint } from '../entities/notification-endpoint.ts';
import { Delivery, DeliveryAttempt, type DeliveryChannel } from '../entities/notification-delivery.ts';
import { notifyOf } from '../services/notification-fanout.ts';
import { Mailer, notificationEmail, sendSlack, sendWebhook, type Fetch, type MailerOptions, type SendOutcome } from './senders.ts';

/**
 * Waits after failed attempts 1, 2, …: exponential (×3 from 30 s) and capped at 12 h, so the
 * tenth attempt comes about a day after the first. Each wait is jittered by ±20%.
 */
export const RETRY_DELAYS_MS = [30_000, 90_000, 270_000, 810_000, 2_430_000, 7_290_000, 21_870_000, 43_200_000, 43_200_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

export function retryDelayMs(failedAttempts: number, random: () => number = Math.random): number {
  const base = RETRY_DELAYS_MS[Math.min(failedAttempts, RETRY_DELAYS_MS.length) - 1];
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** What a delivery attempt came to, for metrics (prom-client counters hook in here). */
export interface DeliveryReport {
  channel: DeliveryChannel;
  accountId: string;
  outcome: 'delivered' | 'retrying' | 'dead';
  latencyMs: number;
}

export interface NotificationWorkerOptions {
  orm: Orm;
  bus: EventBus;
  log: Logger;
  mailer: MailerOptions;
  /** The fetch webhooks and Slack messages are sent with: the SSRF-guarded one. */
  fetch: Fetch;
  /** Deliveries sent at the same time. */
  concurrency?: number;
  /** How long a worker holds a delivery it took; a worker that died lets go after this. */
  leaseMs?: number;
  pollIntervalMs?: number;
  /** The clock (tests move it). */
  now?: () => Date;
  random?: () => number;
  onDelivery?: (report: DeliveryReport) => void;
  /** First part of the durable consumer's name, as for the other consumers. */
  durablePrefix?: string;
}

export const notificationsDurableName = (prefix: string | undefined) => `${prefix ?? 'lb'}-accounts-notifications`;
/** The events that can become notifications. */
const PATTERNS = ['job.failed', 'job.completed', 'connection.failed', 'connection.expiring', 'billing.quota_reached', 'billing.payment_failed', 'snapshot.anomaly_detected', 'notification.endpoint_disabled'];

interface Claimed {
  delivery: Delivery;
  /** Null for a message of its own (an address verification, a password reset). */
  notification: Notification | null;
  endpoint: NotificationEndpoint | null;
}

/**
 * The notifications worker: turns events into notifications (a durable consumer), and sends the
 * deliveries that are due, each held under a lease while it is sent, so several workers share
 * the work and one killed mid-send is replaced once its lease runs out. A retried send carries the
 * same `webhook-id` (Message-ID for email), so the receiver keeps one.
 */
export class NotificationWorker {
  readonly #o: Required<Omit<NotificationWorkerOptions, 'onDelivery' | 'durablePrefix'>> & Pick<NotificationWorkerOptions, 'onDelivery' | 'durablePrefix'>;
  readonly #mailer: Mailer;
  #subscription: EventSubscription | null = null;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(options: NotificationWorkerOptions) {
    this.#o = { concurrency: 8, leaseMs: 60_000, pollIntervalMs: 1_000, now: () => new Date(), random: Math.random, ...options };
    this.#mailer = new Mailer(options.mailer);
  }

  async start(): Promise<void> {
    const pattern = 'lb.evt.*.>';
    this.#subscription = await this.#o.bus.subscribe(
      pattern,
      async (event) => {
        if (!PATTERNS.includes(event.type)) return;
        if (await notifyOf(this.#o.orm, event, this.#o.now)) this.#wake?.();
      },
      { durable: notificationsDurableName(this.#o.durablePrefix) },
    );
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#subscription?.unsubscribe();
    await this.#loop;
    this.#mailer.close();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let busy = false;
      try {
        busy = (await this.deliverDue()) > 0;
      } catch (error) {
        this.#o.log.error({ err: error }, 'notification delivery pass failed');
      }
      if (busy) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollIntervalMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** Sends what is due now (one batch); returns how many it tried. */
  async deliverDue(): Promise<number> {
    const claimed = await this.#claim();
    await Promise.all(claimed.map((each) => this.#deliver(each)));
    return claimed.length;
  }

  async #claim(): Promise<Claimed[]> {
    const now = this.#o.now();
    const em = this.#o.orm.em.fork();
    const schema = em.config.get('schema');
    const rows = await em.getConnection().execute<{ id: string }[]>(
      `update "${schema}"."notification_deliveries" set "locked_until" = ?, "attempts" = "attempts" + 1
        where "id" in (select "id" from "${schema}"."notification_deliveries"
                        where "status" in ('PENDING', 'RETRYING') and "next_attempt_at" <= ? and ("locked_until" is null or "locked_until" < ?)
                        order by "next_attempt_at" limit ? for update skip locked)
        returning "id"`,
      [new Date(now.getTime() + this.#o.leaseMs), now, now, this.#o.concurrency],
    );
    if (rows.length === 0) return [];
    const deliveries = await em.find(Delivery, { id: { $in: rows.map((row) => row.id) } }, { populate: ['text'] });
    const notificationIds = deliveries.map((d) => d.notificationId).filter((id): id is string => id !== null);
    const notifications = new Map((notificationIds.length ? await em.find(Notification, { id: { $in: notificationIds } }) : []).map((n) => [n.id, n]));
    const endpointIds = deliveries.map((d) => d.endpointId).filter((id): id is string => id !== null);
    const endpoints = new Map(
      (endpointIds.length ? await em.find(NotificationEndpoint, { id: { $in: endpointIds } }, { populate: ['secret', 'previousSecret'] }) : []).map((e) => [e.id, e]),
    );
    return deliveries.map((delivery) => ({ delivery, notification: delivery.notificationId ? (notifications.get(delivery.notificationId) ?? null) : null, endpoint: delivery.endpointId ? (endpoints.get(delivery.endpointId) ?? null) : null }));
  }

  async #send({ delivery, notification, endpoint }: Claimed, at: Date): Promise<SendOutcome> {
    if (delivery.channel === 'EMAIL') {
      const { subject, text } = notification ? notificationEmail(notification) : { subject: delivery.subject ?? '', text: delivery.text ?? '' };
      return this.#mailer.send(delivery.id, delivery.recipient, subject, text);
    }
    if (!notification) return { ok: false, responseCode: null, error: 'nothing to send', permanent: true };
    if (!endpoint?.enabled) return { ok: false, responseCode: null, error: 'the endpoint was deleted or disabled', permanent: true };
    if (delivery.channel === 'SLACK') return sendSlack(this.#o.fetch, endpoint.url, notification);
    const secrets = [endpoint.secret!, ...(endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > at ? [endpoint.previousSecret] : [])];
    return sendWebhook(this.#o.fetch, endpoint.url, delivery.id, notification, secrets, at);
  }

  async #deliver(claimed: Claimed): Promise<void> {
    const { delivery } = claimed;
    const at = this.#o.now();
    const started = performance.now();
    const outcome = await this.#send(claimed, at).catch((error: unknown): SendOutcome => ({ ok: false, responseCode: null, error: (error as Error).message }));
    const latencyMs = Math.round(performance.now() - started);
    const finishedAt = this.#o.now();
    const dead = !outcome.ok && (outcome.permanent || delivery.attempts >= MAX_ATTEMPTS);
    await this.#o.orm.em.fork().transactional(async (tx) => {
      // The endpoint first: outcomes of deliveries to one endpoint are recorded one at a time.
      const endpoint = delivery.endpointId ? await tx.findOne(NotificationEndpoint, { id: delivery.endpointId }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
      const row = await tx.findOneOrFail(Delivery, { id: delivery.id });
      tx.create(DeliveryAttempt, {
        id: uuidv7(),
        deliveryId: row.id,
        accountId: row.accountId,
        endpointId: row.endpointId,
        attemptedAt: at,
        succeeded: outcome.ok,
        responseCode: outcome.responseCode,
        latencyMs,
        error: outcome.error,
      });
      row.lockedUntil = null;
      row.lastResponseCode = outcome.responseCode;
      row.lastError = outcome.error;
      if (outcome.ok) {
        row.status = 'DELIVERED';
        row.deliveredAt = finishedAt;
        row.nextAttemptAt = null;
        // A message of its own carries a one-time link: not kept once it is sent.
        if (!row.notificationId) row.text = null;
      } else if (dead) {
        row.status = 'DEAD';
        row.nextAttemptAt = null;
      } else {
        row.status = 'RETRYING';
        row.nextAttemptAt = new Date(finishedAt.getTime() + retryDelayMs(row.attempts, this.#o.random));
      }
      if (endpoint) {
        endpoint.consecutiveFailures = outcome.ok ? 0 : endpoint.consecutiveFailures + 1;
        // An endpoint whose delivery failed for a whole retry schedule is turned off, and the account told.
        if (dead && endpoint.enabled && !outcome.permanent) {
          endpoint.enabled = false;
          endpoint.disabledAt = finishedAt;
          endpoint.disabledReason = `${row.attempts} attempts over a day failed; the last: ${outcome.error ?? 'no answer'}`.slice(0, 500);
          endpoint.updatedAt = finishedAt;
          await tx.nativeUpdate(
            Delivery,
            { endpointId: endpoint.id, status: { $in: ['PENDING', 'RETRYING'] }, id: { $ne: row.id } },
            { status: 'DEAD', nextAttemptAt: null, lastError: 'the endpoint was disabled' },
          );
          enqueueEvent(
            tx,
            createEvent(
              'notification.endpoint_disabled',
              endpoint.accountId,
              endpoint.id,
              { endpointId: endpoint.id, name: endpoint.name, kind: endpoint.kind, reason: endpoint.disabledReason },
              { actor: systemActor('notifications') },
            ),
          );
        }
      }
    });
    const report: DeliveryReport = { channel: delivery.channel, accountId: delivery.accountId, outcome: outcome.ok ? 'delivered' : dead ? 'dead' : 'retrying', latencyMs };
    metrics.notificationDeliveries.inc({ channel: delivery.channel, outcome: report.outcome });
    metrics.notificationDeliveryDuration.observe({ channel: delivery.channel }, latencyMs / 1000);
    this.#o.onDelivery?.(report);
    this.#o.log.info({ deliveryId: delivery.id, ...report, responseCode: outcome.responseCode, error: outcome.error }, 'notification delivery attempt');
  }
}
