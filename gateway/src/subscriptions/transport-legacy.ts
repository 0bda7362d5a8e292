import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { authenticateConnection, ConnectionRefused, credentialProblem, watchSession, type SocketSession } from './connection-auth.ts';
import type { OperationPayload } from './engine.ts';
import { LiveEndError, type LiveResult } from './subscriber.ts';
import { limitReason, type TransportDeps } from './transport-ws.ts';

/** The subprotocol name of subscriptions-transport-ws (GraphQL Playground, old Apollo clients). */
export const LEGACY_PROTOCOL = 'graphql-ws';

/** Message types of the subscriptions-transport-ws protocol. */
const GQL = {
  CONNECTION_INIT: 'connection_init',
  CONNECTION_ACK: 'connection_ack',
  CONNECTION_ERROR: 'connection_error',
  CONNECTION_KEEP_ALIVE: 'ka',
  CONNECTION_TERMINATE: 'connection_terminate',
  START: 'start',
  DATA: 'data',
  ERROR: 'error',
  COMPLETE: 'complete',
  STOP: 'stop',
} as const;

const FORBIDDEN = 4403;

export interface LegacyOptions {
  keepAliveMs: number;
  initTimeoutMs: number;
}

/**
 * The server side of the legacy `graphql-ws` subprotocol (subscriptions-transport-ws), which GraphQL
 * Playground speaks: connection_init/ack/ka, start/data/error/complete/stop, connection_terminate.
 * It runs on the same engine as graphql-transport-ws; only the framing differs.
 */
export function serveLegacyGraphqlWs(wss: WebSocketServer, deps: TransportDeps, options: LegacyOptions): void {
  wss.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    new LegacyConnection(socket, request, deps, options);
  });
}

type Operation = { iterator?: AsyncIterator<LiveResult> & { return(): Promise<IteratorResult<LiveResult>> }; stopped: boolean };

class LegacyConnection {
  readonly #socket: WebSocket;
  readonly #request: http.IncomingMessage;
  readonly #deps: TransportDeps;
  readonly #operations = new Map<string, Operation>();
  #session?: SocketSession;
  /** Set while connection_init is being verified: a start sent right behind it waits for the verdict. */
  #initialising?: Promise<void>;
  #timers: NodeJS.Timeout[] = [];
  #unwatch?: () => void;
  #release?: () => void;

  constructor(socket: WebSocket, request: http.IncomingMessage, deps: TransportDeps, options: LegacyOptions) {
    this.#socket = socket;
    this.#request = request;
    this.#deps = deps;
    this.#timers.push(
      setTimeout(() => {
        if (!this.#session && !this.#initialising) socket.close(4408, 'Connection initialisation timeout');
      }, options.initTimeoutMs),
    );
    socket.on('message', (data: RawData) => void this.#onMessage(data, options).catch((error: unknown) => deps.log.error({ err: error }, 'legacy websocket message failed')));
    socket.on('close', () => this.#onClose());
    socket.on('error', (error) => deps.log.warn({ err: error }, 'legacy websocket error'));
  }

  async #onMessage(data: RawData, options: LegacyOptions): Promise<void> {
    let message: { type?: unknown; id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(data.toString());
      if (!message || typeof message !== 'object') throw new Error('not an object');
    } catch {
      return this.#send({ type: GQL.ERROR, payload: { message: 'Message must be a JSON object' } });
    }
    const id = typeof message.id === 'string' || typeof message.id === 'number' ? String(message.id) : undefined;
    switch (message.type) {
      case GQL.CONNECTION_INIT:
        if (this.#session || this.#initialising) return this.#send({ type: GQL.CONNECTION_ERROR, payload: { message: 'Already initialised' } });
        this.#initialising = this.#init(message.payload, options).finally(() => {
          this.#initialising = undefined;
        });
        return this.#initialising;
      case GQL.CONNECTION_TERMINATE:
        this.#socket.close(1000, 'Terminated');
        return;
      case GQL.START:
        if (id === undefined) return this.#send({ type: GQL.ERROR, payload: { message: 'start needs an "id"' } });
        return this.#start(id, (message.payload ?? {}) as OperationPayload);
      case GQL.STOP:
        if (id !== undefined) this.#stop(id);
        return;
      default:
        return this.#send({ type: GQL.ERROR, ...(id === undefined ? {} : { id }), payload: { message: `Unknown message type ${JSON.stringify(message.type)}` } });
    }
  }

  async #init(payload: unknown, options: LegacyOptions): Promise<void> {
    const requestId = randomUUID();
    try {
      const session = await authenticateConnection(this.#deps.watch.authenticator, payload, requestId, this.#deps.log.child({ requestId, protocol: LEGACY_PROTOCOL }));
      const admitted = await this.#deps.caps.admitConnection(session.principal);
      if ('closeCode' in admitted) {
        this.#send({ type: GQL.CONNECTION_ERROR, payload: admitted.error }, () => this.#socket.close(admitted.closeCode, admitted.reason));
        return;
      }
      if (this.#socket.readyState !== this.#socket.OPEN) return admitted.release();
      this.#release = admitted.release;
      this.#session = session;
    } catch (error) {
      const message = error instanceof ConnectionRefused ? error.message : 'Authentication is temporarily unavailable';
      if (!(error instanceof ConnectionRefused)) this.#deps.log.error({ err: error }, 'websocket authentication failed');
      this.#send({ type: GQL.CONNECTION_ERROR, payload: { message, extensions: { code: 'FORBIDDEN' } } }, () => this.#socket.close(FORBIDDEN, limitReason(`Forbidden: ${message}`)));
      return;
    }
    this.#unwatch = watchSession(this.#session, this.#deps.watch, (reason) => {
      this.#send({ type: GQL.CONNECTION_ERROR, payload: { message: reason, extensions: { code: 'FORBIDDEN' } } }, () => this.#socket.close(FORBIDDEN, limitReason(reason)));
    });
    this.#send({ type: GQL.CONNECTION_ACK });
    this.#send({ type: GQL.CONNECTION_KEEP_ALIVE });
    this.#timers.push(setInterval(() => this.#send({ type: GQL.CONNECTION_KEEP_ALIVE }), options.keepAliveMs));
  }

  async #start(id: string, payload: OperationPayload): Promise<void> {
    await this.#initialising;
    const session = this.#session;
    if (!session) return this.#sendErrors(id, [{ message: 'Send connection_init first', extensions: { code: 'UNAUTHENTICATED' } }]);
    // As subscriptions-transport-ws does: a start with an id in use replaces that operation.
    if (this.#operations.has(id)) this.#stop(id);
    const { engine } = this.#deps;
    if (this.#operations.size >= engine.limits.perSocket) {
      return this.#sendErrors(id, [{ message: `Too many subscriptions on this connection (at most ${engine.limits.perSocket}); stop one first`, extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }]);
    }
    const operation: Operation = { stopped: false };
    this.#operations.set(id, operation);
    const problem = await credentialProblem(session, this.#deps.watch.authenticator);
    if (problem) {
      this.#operations.delete(id);
      return this.#sendErrors(id, [{ message: problem, extensions: { code: 'UNAUTHENTICATED' } }]);
    }
    if (operation.stopped) return;
    const prepared = await engine.prepare({ principal: session.principal, clientIp: this.#deps.clientIp(this.#request), log: session.log, operationId: id }, payload);
    if (operation.stopped) return;
    if ('errors' in prepared) {
      this.#operations.delete(id);
      return this.#sendErrors(id, prepared.errors);
    }
    if (prepared.kind === 'operation') {
      const result = await engine.execute(prepared);
      if (operation.stopped) return;
      this.#operations.delete(id);
      this.#send({ type: GQL.DATA, id, payload: result });
      this.#send({ type: GQL.COMPLETE, id });
      return;
    }
    const iterator = engine.subscribe(prepared);
    operation.iterator = iterator;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || operation.stopped) break;
        await new Promise<void>((resolve) => this.#send({ type: GQL.DATA, id, payload: next.value }, () => resolve()));
      }
      if (!operation.stopped) this.#send({ type: GQL.COMPLETE, id });
    } catch (error) {
      if (!operation.stopped) this.#sendErrors(id, error instanceof LiveEndError ? error.errors : [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    } finally {
      if (this.#operations.get(id) === operation) this.#operations.delete(id);
    }
  }

  #stop(id: string): void {
    const operation = this.#operations.get(id);
    if (!operation) return;
    this.#operations.delete(id);
    operation.stopped = true;
    void operation.iterator?.return();
  }

  #onClose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#unwatch?.();
    this.#release?.();
    for (const id of [...this.#operations.keys()]) this.#stop(id);
  }

  #sendErrors(id: string, errors: readonly GraphQLFormattedError[]): void {
    this.#send({ type: GQL.ERROR, id, payload: errors });
  }

  #send(message: Record<string, unknown>, done?: () => void): void {
    if (this.#socket.readyState !== this.#socket.OPEN) {
      done?.();
      return;
    }
    this.#socket.send(JSON.stringify(message), () => done?.());
  }
}
