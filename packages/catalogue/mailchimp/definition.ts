import type { PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'mailchimp',
  name: 'Mailchimp',
  category: 'MARKETING',
  description: 'Audiences, campaigns and templates in Mailchimp.',
  websiteUrl: 'https://mailchimp.com',
  apiBaseUrl: 'https://{dc}.api.mailchimp.com/3.0',
  oauth2: {
    authorizeUrl: 'https://login.mailchimp.com/oauth2/authorize',
    tokenUrl: 'https://login.mailchimp.com/oauth2/token',
    // Mailchimp has no revocation endpoint: users remove the app under Profile › Extras › Connected sites.
    scopes: [],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: false,
    rotatesRefreshTokens: false,
    credential: { header: 'Authorization', prefix: 'OAuth ' },
    identity: {
      method: 'GET',
      url: 'https://login.mailchimp.com/oauth2/metadata',
      idPath: 'user_id',
      namePath: 'accountname',
      params: { dc: 'dc' },
    },
    docsUrl: 'https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/',
  },
  apiKey: {
    label: 'API key',
    pattern: '^[0-9a-f]{32}-[a-z]{2,4}[0-9]{1,3}$',
    hint: 'A Mailchimp API key (32 hex characters, a dash and the data center, e.g. …-us21) from Profile › Extras › API keys.',
    credential: { header: 'Authorization', basicUsername: 'listbackup' },
    paramsFromKey: { dc: '-([a-z]{2,4}[0-9]{1,3})$' },
    identity: { method: 'GET', url: 'https://{dc}.api.mailchimp.com/3.0/', idPath: 'account_id', namePath: 'account_name' },
    docsUrl: 'https://mailchimp.com/developer/marketing/guides/quick-start/',
  },
  rateLimits: [{ scope: 'per user', limit: 10, description: 'At most 10 simultaneous connections; requests time out after 120 seconds.' }],
};
