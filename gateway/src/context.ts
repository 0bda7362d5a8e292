import type { Logger } from '@listbackup/lib/logger';
import type { Principal } from '@listbackup/lib/principal';

/** Per-request state of the gateway: the verified caller, carried to every subgraph fetch. */
export interface GatewayContext {
  requestId: string;
  principal: Principal;
  clientIp?: string;
  /** The client's User-Agent header, forwarded to subgraphs for audit. */
  userAgent?: string;
  log: Logger;
}
