import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';

// The gateway connects to nothing of its own accord: @apollo/gateway's usage reporting, and the
// cloud metadata probes it makes to describe its host, stay off unless an operator turns them on.
const connects: string[] = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  // net.connect() hands the socket its arguments already normalized, as one array.
  const [first] = Array.isArray(args[0]) ? args[0] : args;
  const options = typeof first === 'object' && first !== null ? (first as { host?: string; path?: string | null }) : { host: typeof args[1] === 'string' ? args[1] : undefined };
  connects.push(options.path ?? options.host ?? 'localhost');
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;

let gateway: RunningGateway | undefined;
afterAll(async () => {
  await gateway?.close();
  net.Socket.prototype.connect = connect;
});

it('starts without reporting to Apollo or probing cloud metadata addresses', async () => {
  const names = ['accounts', 'platforms', 'sources', 'jobs', 'billing'];
  gateway = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(names.map((name) => [name, 'http://127.0.0.1:9/graphql'])),
    accountsUrl: 'http://127.0.0.1:9',
    internalTokenSecret: 'a-test-secret-of-enough-length-0123456789',
    log: pino({ level: 'silent' }),
  });
  // The probes start while the gateway is built; give any stragglers a moment.
  await sleep(1000);
  expect(connects.filter((host) => !['127.0.0.1', 'localhost', '::1'].includes(host))).toEqual([]);
});
