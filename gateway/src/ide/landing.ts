import { GRAPHQL_PATH } from './shared.ts';

/** `/`: where a person who opens the gateway in a browser starts. */
export function landingPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ListBackup API</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 760px; margin: 48px auto; padding: 0 20px; color: #13212e; }
    h1 { margin-bottom: 4px; }
    .ides { display: flex; gap: 16px; margin: 24px 0; }
    .ides a { flex: 1; display: block; padding: 16px; border: 1px solid #c9d6e2; border-radius: 8px; color: inherit; text-decoration: none; }
    .ides a:hover { border-color: #1b73c4; }
    .ides strong { display: block; color: #1b73c4; }
    code, pre { background: #f1f5f9; border-radius: 4px; padding: 2px 4px; }
    pre { padding: 12px; overflow-x: auto; }
  </style>
</head>
<body>
  <h1>ListBackup GraphQL API</h1>
  <p>One federated GraphQL API for accounts, platforms, sources, backup jobs and billing.</p>
  <div class="ides">
    <a href="/graphiql"><strong>GraphiQL</strong>Queries, mutations and live subscriptions (graphql-transport-ws).</a>
    <a href="/playground"><strong>GraphQL Playground</strong>The classic IDE (legacy graphql-ws protocol).</a>
  </div>
  <h2>Endpoints</h2>
  <ul>
    <li>Queries and mutations: <code>POST ${GRAPHQL_PATH}</code></li>
    <li>Subscriptions: websocket <code>${GRAPHQL_PATH}</code>, subprotocol <code>graphql-transport-ws</code> or <code>graphql-ws</code>;
      send <code>{"Authorization": "Bearer &lt;access token or API key&gt;"}</code> as the connection_init payload.</li>
    <li>Health: <a href="/healthz"><code>/healthz</code></a> · <a href="/readyz"><code>/readyz</code></a></li>
  </ul>
  <h2>Watch a backup live</h2>
  <pre>subscription ($id: ID!) {
  jobUpdated(id: $id) {
    status
    progress { percent itemsDone bytesDone etaSeconds }
    source { name connection { platform { name } } }
  }
}</pre>
</body>
</html>`;
}
