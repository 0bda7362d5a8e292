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
  return html.replace(/<link href="https:\/\/fonts\.googleapis\.com[^>]*>/, '');
}

/** The Playground build files the page loads; nothing else of node_modules is reachable. */
export function playgroundAsset(relative: string): string | undefined {
  const prefix = 'graphql-playground-react/build/';
  if (!relative.startsWith(prefix)) return undefined;
  const file = relative.slice(prefix.length);
  if (!ALLOWED.has(file) && !file.startsWith('static/media/')) return undefined;
  return inside(BUILD_DIR, file);
}
