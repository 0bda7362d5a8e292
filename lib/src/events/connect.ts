import { NatsEventBus } from './nats-bus.ts';
import type { EventLogger } from './bus.ts';

/** The JetStream stream of a namespace: `lb` → `LB_EVENTS`. */
export const streamName = (namespace: string): string => `${namespace.toUpperCase().replaceAll('-', '_')}_EVENTS`;

/** Connects to NATS for one deployment namespace: subjects `<ns>.evt.…`, stream `<NS>_EVENTS`. */
export function connectNatsBus(url: string, namespace: string, logger?: EventLogger): Promise<NatsEventBus> {
  return NatsEventBus.connect(url, { namespace, stream: streamName(namespace), logger });
}
