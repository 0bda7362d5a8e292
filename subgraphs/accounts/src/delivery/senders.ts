import { randomBytes } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { Webhook } from 'standardwebhooks';
import type { Notification } from '../entities/notification.ts';
import { WEBHOOK_TYPES } from '../services/notification-fanout.ts';

/** How one attempt went. */
export interface SendOutcome {
  ok: boolean;
  /** The HTTP status, or the SMTP reply code. */
  responseCode: number | null;
  error: string | null;
  /** A failure no retry can fix (an address the mail server refuses for good). */
  permanent?: boolean;
}

/** The `fetch` outbound requests go through (the SSRF-guarded one in the services). */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

const TIMEOUT_MS = 15_000;
/** A receiver's answer is read (for the delivery log) up to this much. */
const MAX_ERROR_BODY = 500;

/** `whsec_` and 32 random bytes, base64: the Standard Webhooks secret format. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The body of a webhook: Standard Webhooks' `{type, timestamp, data}`. */
export function webhookPayload(notification: Notification): string {
  return JSON.stringify({
    type: WEBHOOK_TYPES[notification.event],
    timestamp: notification.createdAt.toISOString(),
    data: {
      notificationId: notification.id,
      accountId: notification.accountId,
      title: notification.title,
      body: notification.body,
      event: notification.payload,
    },
  });
}

/**
 * The three Standard Webhooks headers. `webhook-id` is the delivery's id, the same on every
 * attempt; during a rotation both secrets sign (space-separated `v1,` signatures).
 */
export function webhookHeaders(deliveryId: string, payload: string, secrets: string[], at: Date): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(deliveryId, at, payload));
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

async function post(fetch: Fetch, url: string, body: string, headers: Record<string, string>): Promise<SendOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'ListBackup-Webhooks/1.0', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel();
      return { ok: true, responseCode: response.status, error: null };
    }
    const text = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
    return { ok: false, responseCode: response.status, error: `HTTP ${response.status}${text ? `: ${text}` : ''}` };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, responseCode: null, error: `no answer within ${TIMEOUT_MS / 1000} s` };
    return { ok: false, responseCode: null, error: (error as Error).message };
  }
}

export function sendWebhook(fetch: Fetch, url: string, deliveryId: string, notification: Notification, secrets: string[], at: Date): Promise<SendOutcome> {
  const payload = webhookPayload(notification);
  return post(fetch, url, payload, webhookHeaders(deliveryId, payload, secrets, at));
}

/** A Slack incoming-webhook message: `text` for notifications, blocks for the channel. */
export function slackMessage(notification: Notification): string {
  return JSON.stringify({
    text: `${notification.title}: ${notification.body}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: notification.title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: notification.body.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `ListBackup · ${WEBHOOK_TYPES[notification.event]}` }] },
    ],
  });
}

export function sendSlack(fetch: Fetch, url: string, notification: Notification): Promise<SendOutcome> {
  return post(fetch, url, slackMessage(notification), {});
}

export interface MailerOptions {
  /** `smtp://user:pass@host:port` (or `smtps://`). */
  smtpUrl: string;
  /** The From address, e.g. `ListBackup <notifications@example.com>`. */
  from: string;
}

/** Email over SMTP through nodemailer; the Message-ID is the delivery's, so a resent copy is recognisably the same. */
export class Mailer {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(options: MailerOptions) {
    const url = new URL(options.smtpUrl);
    const secure = url.protocol === 'smtps:';
    this.#transport = nodemailer.createTransport({
      host: url.hostname,
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    this.#from = options.from;
  }

  async send(deliveryId: string, to: string, subject: string, text: string, extraHeaders: Record<string, string> = {}): Promise<SendOutcome> {
    try {
      const info = await this.#transport.sendMail({
        from: this.#from,
        to,
        subject,
        text,
        messageId: `<${deliveryId}@notifications.listbackup>`,
        headers: { 'X-ListBackup-Delivery': deliveryId, ...extraHeaders },
      });
      const code = Number(/^\d{3}/.exec(String(info.response ?? '250'))?.[0] ?? 250);
      return { ok: true, responseCode: code, error: null };
    } catch (error) {
      const responseCode = (error as { responseCode?: number }).responseCode ?? null;
      return { ok: false, responseCode, error: (error as Error).message.slice(0, MAX_ERROR_BODY), permanent: responseCode !== null && responseCode >= 500 };
    }
  }

  close(): void {
    this.#transport.close();
  }
}

export function notificationEmail(notification: Notification): { subject: string; text: string } {
  return {
    subject: `[ListBackup] ${notification.title}`,
    text: `${notification.body}\n\nYou get this because you are a member of the account and these notifications are on. Change what you receive in your notification preferences.\n`,
  };
}
