import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GraphQLError as GraphQLErrorType, GraphQLFormattedError } from 'graphql';
import { CloseCode, type Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { authenticateConnection, ConnectionRefused, credentialProblem, watchSession, type SessionWatchOptions, type SocketSession } from './connection-auth.ts';
import type { ConnectionCaps } from './caps.ts';
import type { Prepared, PreparedOperation, PreparedSubscription, SubscriptionEngine } from './engine.ts';
import { LiveEndError, type LiveResult } from './subscriber.ts';
import type { Logger } from '@listbackup/lib/logger';
import { graphql } from './graphql.ts';

const { GraphQLError } = graphql;

interface Extra extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: http.IncomingMessage;
  session?: SocketSession;
  unwatch?: () => void;
  /** Gives the socket's place back under its principal's cap. */
  release?: () => void;
}

export interface TransportDeps {
  engine: SubscriptionEngine;
  watch: SessionWatchOptions;
  log: Logger;
  caps: ConnectionCaps;
  clientIp(request: http.IncomingMessage): string | undefined;
}

/** Formatted errors as GraphQLError objects, which graphql-ws requires from onSubscribe. */
function asGraphQLErrors(errors: readonly GraphQLFormattedError[]): GraphQLErrorType[] {
  return errors.map((error) => new GraphQLError(error.message, { path: error.path, extensions: error.extensions }));
}

/** The `graphql-transport-ws` protocol (graphql-ws: GraphiQL, Apollo Client's GraphQLWsLink, urql). */
export function serveGraphqlTransportWs(wss: WebSocketServer, deps: TransportDeps): ReturnType<typeof useServer> {
  const { engine, log } = deps;
  return useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: 10_000,
      async onConnect(ctx: WsContext<Record<string, unknown>, Extra>) {
        const requestId = randomUUID();
        try {
          const session = await authenticateConnection(deps.watch.authenticator, ctx.connectionParams, requestId, log.child({ requestId, protocol: 'graphql-transport-ws' }));
          const admitted = await deps.caps.admitConnection(session.principal);
          if ('closeCode' in admitted) {
            ctx.extra.socket.close(admitted.closeCode, admitted.reason);
            return false;
          }
          if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) {
            admitted.release();
            return false;
          }
          ctx.extra.release = admitted.release;
          ctx.extra.session = session;
          ctx.extra.unwatch = watchSession(session, deps.watch, (reason) => ctx.extra.socket.close(CloseCode.Forbidden, reason));
          return true;
        } catch (error) {
          const reason = error instanceof ConnectionRefused ? `Forbidden: ${error.message}` : 'Forbidden: authentication is temporarily unavailable';
          if (!(error instanceof ConnectionRefused)) log.error({ err: error }, 'websocket authentication failed');
          ctx.extra.socket.close(CloseCode.Forbidden, limitReason(reason));
          return false;
        }
      },
      onClose(ctx) {
        ctx.extra.unwatch?.();
        ctx.extra.release?.();
      },
      async onSubscribe(ctx, id, payload) {
        const session = ctx.extra.session!;
        if (Object.keys(ctx.subscriptions).length > engine.limits.perSocket) {
          return asGraphQLErrors([{ message: `Too many subscriptions on this connection (at most ${engine.limits.perSocket}); complete one first`, extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }]);
        }
        const problem = await credentialProblem(session, deps.watch.authenticator);
        if (problem) return asGraphQLErrors([{ message: problem, extensions: { code: 'UNAUTHENTICATED' } }]);
        const prepared = await engine.prepare({ principal: session.principal, clientIp: deps.clientIp(ctx.extra.request), log: session.log, operationId: id }, payload);
        if ('errors' in prepared) return asGraphQLErrors(prepared.errors);
        return {
          schema: undefined as never,
          document: prepared.document,
          operationName: payload.operationName ?? undefined,
          variableValues: payload.variables ?? undefined,
          contextValue: prepared,
        };
      },
      subscribe: (args) => {
        const prepared = args.contextValue as Prepared;
        if (prepared.kind !== 'subscription') return engine.execute(prepared as PreparedOperation) as never;
        return engine.subscribe(prepared as PreparedSubscription) as never;
      },
      execute: (args) => engine.execute(args.contextValue as PreparedOperation) as never,
      // Our results are already formatted (masked) JSON: send them as they are.
      onNext: (_ctx, _id, _payload, _args, result) => result as LiveResult as never,
      onError(_ctx, _id, _payload, errors) {
        const original = (errors[0] as GraphQLErrorType | undefined)?.originalError;
        if (original instanceof LiveEndError) return [...original.errors];
        return errors.map((error) => error.toJSON());
      },
    },
    wss,
    12_000,
  );
}

export function limitReason(reason: string): string {
  // A close reason is limited to 123 bytes.
  return Buffer.byteLength(reason) <= 123 ? reason : `${Buffer.from(reason).subarray(0, 120).toString()}…`;
}
