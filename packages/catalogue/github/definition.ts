import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'github',
  name: 'GitHub',
  category: 'DEVELOPER',
  description: 'Repositories, issues, pull requests and wikis.',
  websiteUrl: 'https://github.com',
  apiBaseUrl: 'https://api.github.com',
  apiHeaders: { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
  oauth2: {
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    revocation: { style: 'github-grant', url: 'https://api.github.com/applications/{client_id}/grant' },
    scopes: ['repo', 'read:org', 'read:user'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    // OAuth app tokens do not expire; GitHub App user tokens expire after 8 hours with a rotating refresh token.
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.github.com/user', idPath: 'id', namePath: 'login' },
    docsUrl: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
  },
  apiKey: {
    label: 'Personal access token',
    pattern: '^(ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})$',
    hint: 'A fine-grained (github_pat_…) or classic (ghp_…) personal access token from Settings › Developer settings.',
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.github.com/user', idPath: 'id', namePath: 'login' },
    docsUrl: 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens',
  },
  rateLimits: [
    { scope: 'per user token', limit: 5000, windowSeconds: 3600, description: '5,000 REST requests per hour per user (15,000 for GitHub Apps on Enterprise Cloud).' },
    { scope: 'secondary', limit: 900, windowSeconds: 60, description: 'Secondary limits: at most 100 concurrent requests and 900 points per minute per REST endpoint.' },
  ],
  webhooks: {
    // Repository and organization webhooks sign the raw body with the webhook's secret; the route names the connection.
    signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Hub-Signature-256'], prefix: 'sha256=', encoding: 'hex' },
    deliveryId: { header: 'X-GitHub-Delivery' },
    eventType: { header: 'X-GitHub-Event' },
    events: [
      { type: 'issues', resources: ['issues'] },
      // Comments on pull requests are issue comments too; either changes the parent's updated_at.
      { type: 'issue_comment', resources: ['issues', 'pull_requests'] },
      { type: 'pull_request', resources: ['pull_requests'] },
      { type: 'pull_request_review', resources: ['pull_requests'] },
      { type: 'pull_request_review_comment', resources: ['pull_requests'] },
    ],
    docsUrl: 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries',
  },
};
