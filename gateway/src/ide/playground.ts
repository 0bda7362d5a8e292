import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { renderPlaygroundPage } from 'graphql-playground-html';
import { EXAMPLE_OPERATION, GRAPHQL_PATH, inside } from './shared.ts';

const require = createRequire(import.meta.url);
/** The prebuilt GraphQL Playground (graphql-playground-react's build/), served from node_modules. */
const BUILD_DIR = path.join(path.dirname(require.resolve('graphql-playground-react/package.json')), 'build');
const ASSETS = '/playground/assets';
const ALLOWED = new Set(['static/js/middleware.js', 'static/css/index.css', 'favicon.png', 'logo.png']);

/**
 * GraphQL Playground, which speaks the legacy `graphql-ws` websocket protocol. Its headers
 * (`{"Authorization": "Bearer …"}`) go with HTTP requests and, as connection_init params, with subscriptions.
 */
export function playgroundPage(req: http.IncomingMessage): string {
  const host = req.headers.host ?? 'localhost:4000';
  const secure = req.headers['x-forwarded-proto'] === 'https';
  const html = renderPlaygroundPage({
    title: 'ListBackup — GraphQL Playground',
    endpoint: GRAPHQL_PATH,
    subscriptionEndpoint: `${secure ? 'wss' : 'ws'}://${host}${GRAPHQL_PATH}`,
    // cdnUrl + '/graphql-playground-react/build/…' lands on ASSETS, served below from node_modules.
    cdnUrl: ASSETS,
    faviconUrl: `${ASSETS}/graphql-playground-react/build/favicon.png`,
    settings: {
      'request.credentials': 'same-origin',
      'schema.polling.enable': false,
      'editor.theme': 'dark',
    } as never,
    tabs: [
      {
        endpoint: GRAPHQL_PATH,
        name: 'Watch a job',
        query: EXAMPLE_OPERATION,
        variables: '{ "id": "<job id>" }',
      },
    ],
  });
  // No request leaves this origin: drop the web font the page would load from Google.
  return html.replace(/<link href="https:\/\/fonts\.googleapis\.com[^>]*>/, '').replace(/<head>/i, (head) => `${head}${SOCKET_NOTICE}`);
}

/**
 * Playground reports any refused subscription socket as "Could not connect to websocket endpoint".
 * This script, ahead of Playground's own (which keeps the WebSocket class it finds at load), watches its sockets and shows, in a bar above it, what the server said instead: a
 * connection_init without an Authorization header gets the sign-in hint, a refusal gets its reason.
 */
const SOCKET_NOTICE = `<script>(() => {
  const notice = document.createElement('div');
  notice.id = 'lb-socket-notice';
  notice.setAttribute('role', 'alert');
  notice.hidden = true;
  notice.style.cssText = 'position:fixed;top:0;left:0;right:0;z-index:10000;padding:8px 14px;background:#5c1f1f;color:#fff;font:13px/1.4 system-ui,sans-serif';
  const show = (text) => { notice.textContent = text; notice.hidden = false; if (!notice.isConnected) document.body.append(notice); };
  const SIGN_IN = 'Sign in first: subscriptions run as a user or an API key. Put {"Authorization": "Bearer <accessToken from logIn or signUp, or an lbk_ API key>"} in HTTP HEADERS below, then run the subscription again.';
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        let message;
        try { message = JSON.parse(event.data); } catch { return; }
        if (message.type === 'connection_ack') notice.hidden = true;
        if (message.type === 'connection_error') show(this.lbSignedIn === false ? SIGN_IN : 'The server refused the subscription socket: ' + (message.payload && message.payload.message || 'no reason given'));
      });
      this.addEventListener('close', (event) => {
        if (event.code >= 4000 && notice.hidden) show(this.lbSignedIn === false ? SIGN_IN : 'The server closed the subscription socket (' + event.code + '): ' + (event.reason || 'no reason given'));
      });
    }
    send(data) {
      try {
        const message = JSON.parse(data);
        if (message.type === 'connection_init') {
          const payload = message.payload || {};
          this.lbSignedIn = Object.keys(payload).some((key) => key.toLowerCase() === 'authorization' && String(payload[key]).trim() !== '');
        }
      } catch {}
      super.send(data);
    }
  };
})();</script>`;

/** The Playground build files the page loads; nothing else of node_modules is reachable. */
export function playgroundAsset(relative: string): string | undefined {
  const prefix = 'graphql-playground-react/build/';
  if (!relative.startsWith(prefix)) return undefined;
  const file = relative.slice(prefix.length);
  if (!ALLOWED.has(file) && !file.startsWith('static/media/')) return undefined;
  return inside(BUILD_DIR, file);
}
