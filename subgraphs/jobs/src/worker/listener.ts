import pg from 'pg';
import type { Logger } from '@listbackup/lib/logger';

/**
 * A dedicated connection LISTENing on one channel, reconnecting after a drop. Notifications are a
 * fast path only: the worker also polls, so one lost while reconnecting delays, never loses, work.
 */
export class PgListener {
  readonly #url: string;
  readonly #channel: string;
  readonly #onMessage: (payload: string) => void;
  readonly #log: Logger;
  #client: pg.Client | null = null;
  #stopped = false;
  #retry: NodeJS.Timeout | null = null;

  constructor(url: string, channel: string, onMessage: (payload: string) => void, log: Logger) {
    this.#url = url;
    this.#channel = channel;
    this.#onMessage = onMessage;
    this.#log = log;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: 'listbackup-jobs-listener' });
    client.on('notification', (message) => {
      if (message.channel === this.#channel && message.payload) this.#onMessage(message.payload);
    });
    client.on('error', (error) => {
      this.#log.warn({ err: error }, 'job notification connection failed; reconnecting');
      this.#reconnectSoon(client);
    });
    client.on('end', () => this.#reconnectSoon(client));
    await client.connect();
    await client.query(`listen ${pg.escapeIdentifier(this.#channel)}`);
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  #reconnectSoon(client: pg.Client): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#scheduleConnect();
  }

  #scheduleConnect(): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().catch((error: unknown) => {
        this.#log.warn({ err: error }, 'job notification connection could not reconnect');
        this.#scheduleConnect();
      });
    }, 1_000);
  }
}
