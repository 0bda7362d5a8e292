import type { AccessResolver } from './access.ts';
import type { EventBus } from './events/bus.ts';
import type { Logger } from './logger.ts';
import type { Orm } from './db.ts';

/** What a subgraph needs from its surroundings, whether it runs alone or beside the others in one process. */
export interface ServiceRuntime {
  databaseUrl: string;
  bus: EventBus;
  /** Role look-ups; the accounts subgraph answers them itself, the others ask it. */
  access: AccessResolver;
  internalTokenSecret: string;
  log: Logger;
  port: number;
  host?: string;
  /** Called with every SQL statement (tests count queries with it). */
  onQuery?: (sql: string) => void;
  /**
   * First part of the names of this service's durable event consumers (default `lb`), so that
   * separate stacks on one NATS server (parallel test runs) never share a consumer.
   */
  durablePrefix?: string;
}

export interface RunningService {
  name: string;
  url: string;
  orm: Orm;
  close(): Promise<void>;
}
