/**
 * A local stand-in for platforms' own APIs, speaking their wire formats for the calls ListBackup
 * makes while connecting: identity endpoints (Stripe's /v1/account, GitLab's /api/v4/user,
 * QuickBooks' companyinfo, Slack's auth.test), the non-RFC-7009 revocation styles, and Shopify's
 * own authorization server (a redirect signed with `hmac`, a JSON token request). OAuth access
 * tokens are checked against the local authorization server, so a revoked token really stops
 * working here.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthServer } from './oauth-server.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface PlatformApi {
  url: string;
  /** Stripe secret keys that work, with the account they belong to. */
  stripeKeys: Map<string, { id: string; name: string }>;
  /** Mailchimp API keys that work (Basic authentication, any user name). */
  mailchimpKeys: Map<string, { id: string; name: string }>;
  /** The Shopify app ListBackup is registered as; its secret signs Shopify's redirects. */
  shopifyApp: { clientId: string; clientSecret: string };
  /** Answer 503 to everything (the platform is down). */
  down: boolean;
  requests: RecordedRequest[];
  /** What `/scripted/…` answers: a status, a body and its content type. */
  scripted: { status: number; body: string; type: string };
  close(): Promise<void>;
}

export async function startPlatformApi(oauth?: OAuthServer): Promise<PlatformApi> {
  const api: PlatformApi = {
    url: '',
    stripeKeys: new Map(),
    mailchimpKeys: new Map(),
    shopifyApp: { clientId: `shopify-${randomBytes(4).toString('hex')}`, clientSecret: randomBytes(16).toString('hex') },
    down: false,
    requests: [],
    scripted: { status: 200, body: '{}', type: 'application/json' },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const bearer = (req: http.IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const shopifyCodes = new Map<string, string>();
  const shopifyTokens = new Map<string, string>();
  const oauthToken = async (req: http.IncomingMessage) => {
    const token = bearer(req);
    return token && oauth ? oauth.provider.AccessToken.find(token) : undefined;
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://api');
      api.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (api.down) return json(res, 503, { error: 'service_unavailable' });

      // Stripe: GET /v1/account with `Authorization: Bearer sk_…`.
      if (url.pathname === '/v1/account') {
        const account = api.stripeKeys.get(bearer(req) ?? '');
        if (!account) {
          return json(res, 401, { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${(bearer(req) ?? '').slice(0, 8)}****` } });
        }
        return json(res, 200, { id: account.id, object: 'account', settings: { dashboard: { display_name: account.name } } });
      }
      // Mailchimp: GET /3.0/ (the API root) with `Authorization: Basic base64(anystring:key)`.
      if (url.pathname === '/3.0/') {
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const key = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[1] : undefined;
        const account = key ? api.mailchimpKeys.get(key) : undefined;
        if (!account) return json(res, 401, { type: 'https://mailchimp.com/developer/marketing/docs/errors/', title: 'API Key Invalid', status: 401 });
        return json(res, 200, { account_id: account.id, account_name: account.name });
      }
      // GitLab: GET /api/v4/user.
      if (url.pathname === '/api/v4/user') {
        const token = await oauthToken(req);
        if (!token) return json(res, 401, { message: '401 Unauthorized' });
        return json(res, 200, { id: 4242, username: token.accountId, name: 'Platform User' });
      }
      // QuickBooks: GET /v3/company/{realmId}/companyinfo/{realmId}.
      const company = /^\/v3\/company\/(\d+)\/companyinfo\/(\d+)$/.exec(url.pathname);
      if (company) {
        if (!(await oauthToken(req))) return json(res, 401, { fault: { error: [{ code: '3200', message: 'AuthenticationFailed' }] } });
        return json(res, 200, { CompanyInfo: { Id: company[1], CompanyName: 'Acme Books Ltd' } });
      }
      // Xero: GET /connections.
      if (url.pathname === '/connections') {
        if (!(await oauthToken(req))) return json(res, 401, { Title: 'Unauthorized', Status: 401 });
        return json(res, 200, [{ id: 'c1', tenantId: '0a1b2c3d-0000-4000-8000-000000000001', tenantType: 'ORGANISATION', tenantName: 'Acme Xero Org' }]);
      }
      // Slack: POST /api/auth.test answers errors with HTTP 200 and ok: false.
      if (url.pathname === '/api/auth.test') {
        if (!(await oauthToken(req))) return json(res, 200, { ok: false, error: 'invalid_auth' });
        return json(res, 200, { ok: true, team_id: 'T0001', team: 'Acme Slack' });
      }
      // Shopify, under /{shop}/…: the authorization redirect signed with `hmac`, the JSON token request, shop.json.
      const shopify = /^\/([a-z0-9-]+\.myshopify\.com)\/admin\/(oauth\/authorize|oauth\/access_token|api\/2025-07\/shop\.json)$/.exec(url.pathname);
      if (shopify) {
        const [, shop, endpoint] = shopify;
        if (endpoint === 'oauth/authorize') {
          if (url.searchParams.get('client_id') !== api.shopifyApp.clientId) return json(res, 400, { error: 'invalid_request' });
          const code = randomBytes(16).toString('hex');
          shopifyCodes.set(code, shop);
          const back = new URL(url.searchParams.get('redirect_uri')!);
          const query: Record<string, string> = { code, host: Buffer.from(`admin.shopify.com/store/${shop.split('.')[0]}`).toString('base64url'), shop, state: url.searchParams.get('state') ?? '', timestamp: String(Math.floor(Date.now() / 1000)) };
          const message = new URLSearchParams(Object.entries(query).sort(([a], [b]) => (a < b ? -1 : 1))).toString();
          for (const [name, value] of Object.entries({ ...query, hmac: createHmac('sha256', api.shopifyApp.clientSecret).update(message).digest('hex') })) back.searchParams.set(name, value);
          res.writeHead(302, { location: back.toString() });
          return res.end();
        }
        if (endpoint === 'oauth/access_token') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
          if (body.client_id !== api.shopifyApp.clientId || body.client_secret !== api.shopifyApp.clientSecret || shopifyCodes.get(body.code) !== shop) {
            return json(res, 400, { error: 'invalid_request', error_description: 'The authorization code was not found or was already used' });
          }
          shopifyCodes.delete(body.code);
          const token = `shpat_${randomBytes(16).toString('hex')}`;
          shopifyTokens.set(token, shop);
          return json(res, 200, { access_token: token, scope: 'read_products,read_orders' });
        }
        if (shopifyTokens.get(String(req.headers['x-shopify-access-token'])) !== shop) return json(res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
        return json(res, 200, { shop: { id: 548380009, name: 'Acme Store', myshopify_domain: shop } });
      }
      if (url.pathname.startsWith('/scripted/')) {
        res.writeHead(api.scripted.status, { 'content-type': api.scripted.type });
        return res.end(api.scripted.body);
      }
      // Revocation styles: record and acknowledge.
      if (url.pathname.startsWith('/revoke/')) return json(res, 200, { ok: true });
      return json(res, 404, { error: 'not_found' });
    })().catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}
