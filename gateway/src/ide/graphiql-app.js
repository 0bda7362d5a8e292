// GraphiQL for ListBackup, bundled by esbuild from installed packages (gateway/src/ide/graphiql.ts):
// no CDN. Queries and mutations go over HTTP, subscriptions over the websocket (graphql-transport-ws),
// both with the access token from the bar above the editor (or the Headers tab).
import { createElement as h, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { createClient } from 'graphql-ws';
import 'graphiql/style.css';

const config = JSON.parse(document.getElementById('ide-config').textContent);
const TOKEN_KEY = 'listbackup:access-token';

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const name = label === 'json' ? 'json' : label === 'graphql' ? 'graphql' : 'editor';
    return new Worker(`${config.assets}/${name}.worker.js`);
  },
};

function websocketUrl() {
  const url = new URL(config.endpoint, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

function hasAuthorization(headers) {
  return Object.entries(headers).some(([key, value]) => key.toLowerCase() === 'authorization' && String(value).trim() !== '');
}

function withToken(headers, token) {
  const merged = { ...(headers ?? {}) };
  if (token && !hasAuthorization(merged)) merged.Authorization = /^bearer\s/i.test(token) ? token : `Bearer ${token}`;
  return merged;
}

// Every subscription needs a principal: say so before opening a socket the server would refuse.
function notSignedIn() {
  return {
    errors: [
      {
        message: 'Sign in first: subscriptions run as a user or an API key. Paste the accessToken from logIn or signUp (or an lbk_ API key) in the bar above, then run the subscription again.',
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ],
  };
}

async function* once(result) {
  yield result;
}

// A socket the server closes arrives as a CloseEvent; show its code and reason, not "[object Event]".
async function* readable(results) {
  try {
    yield* results;
  } catch (error) {
    if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
      yield { errors: [{ message: `The server closed the subscription socket (${error.code}): ${error.reason || 'no reason given'}` }] };
      return;
    }
    throw error;
  }
}

const clients = new Map();
function wsClientFor(connectionParams) {
  const key = JSON.stringify(connectionParams);
  let client = clients.get(key);
  if (!client) {
    client = createClient({ url: websocketUrl(), connectionParams, lazy: true, retryAttempts: 0 });
    clients.set(key, client);
  }
  return client;
}

function makeFetcher(getToken) {
  return (params, options) => {
    const headers = withToken(options?.headers, getToken());
    let kind = 'query';
    try {
      const document = options?.documentAST ?? parse(params.query);
      kind = getOperationAST(document, params.operationName)?.operation ?? 'query';
    } catch {}
    if (kind === 'subscription') {
      if (!hasAuthorization(headers)) return once(notSignedIn());
      const client = wsClientFor(headers);
      return readable(client.iterate({ query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined }));
    }
    return fetch(config.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(params),
    }).then((response) => response.json());
  };
}

function TokenBar({ token, setToken }) {
  return h(
    'form',
    { className: 'lb-token-bar', onSubmit: (event) => event.preventDefault() },
    h('a', { href: '/', className: 'lb-home' }, 'ListBackup'),
    h('label', { htmlFor: 'lb-token' }, 'Access token or API key'),
    h('input', {
      id: 'lb-token',
      name: 'token',
      type: 'password',
      autoComplete: 'off',
      placeholder: 'paste the accessToken from logIn / signUp, or an lbk_ API key',
      value: token,
      onChange: (event) => {
        setToken(event.target.value.trim());
        sessionStorage.setItem(TOKEN_KEY, event.target.value.trim());
      },
    }),
    h('span', { className: 'lb-hint' }, `HTTP ${config.endpoint} · websocket ${websocketUrl()}`),
  );
}

function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '');
  const tokenRef = useMemo(() => ({ current: token }), []);
  tokenRef.current = token;
  const fetcher = useMemo(() => makeFetcher(() => tokenRef.current), [tokenRef]);
  const search = new URLSearchParams(location.search);
  return h(
    'div',
    { className: 'lb-shell' },
    h(TokenBar, { token, setToken }),
    h(
      'div',
      { className: 'lb-ide' },
      h(GraphiQL, {
        fetcher,
        defaultQuery: config.defaultQuery,
        initialQuery: search.get('query') ?? undefined,
        initialVariables: search.get('variables') ?? undefined,
        defaultEditorToolsVisibility: 'variables',
        shouldPersistHeaders: false,
      }),
    ),
  );
}

createRoot(document.getElementById('graphiql')).render(h(App));
