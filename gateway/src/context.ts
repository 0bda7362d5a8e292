import type { Logger } from '@listbackup/lib/logger';
import type { Principal } from '@listbackup/lib/principal';
import type { CarriedAccess } from '@listbackup/lib/access-facts';

/** Per-request state of the gateway: the verified caller, carried to every subgraph fetch. */
export interface GatewayContext {
  requestId: string;
  principal: Principal;
  /** What the gateway checked about the caller (alive, roles), signed into each subgraph's token. */
  facts?: CarriedAccess;
  clientIp?: string;
  /** The client's User-Agent header, forwarded to subgraphs for audit. */
  userAgent?: string;
  log: Logger;
}
