import { parseRestDefinition, RestDefinitionError } from '@listbackup/lib/rest-definition';
import type { PlatformCategory } from './entities/platform.ts';

/**
 * The platforms ListBackup knows, with the authentication facts each one documents. The code is
 * the source of truth: `syncPlatformCatalogue` upserts these rows by slug at every start, so adding
 * a platform is adding an entry here (and a review of its documentation links). OAuth client ids
 * and secrets are never here: they come from configuration (see config.ts).
 *
 * URL templates take `{name}` placeholders filled from the connection's parameters: those the user
 * gives when connecting (`shop`, `subdomain`), those the platform adds to the callback (`realmId`)
 * or to its token response (`instance_url`), and those read from its identity endpoint (`dc`).
 */

export const AUTH_TYPES = ['OAUTH2', 'API_KEY'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** RFC 7591 names of how a client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** How a credential travels to the platform's API. */
export type CredentialHeader =
  /** `<header>: <prefix><token>`, e.g. `Authorization: Bearer …` or `X-Shopify-Access-Token: …`. */
  | { header: string; prefix: string }
  /** `Authorization: Basic base64(<username>:<token>)`. */
  | { header: 'Authorization'; basicUsername: string };

/** How a credential is checked and who it belongs to is found; `createApiKeyConnection` and `testConnection` use it. */
export type IdentityEndpoint = HttpIdentity | DatabaseIdentity | DefinedApiIdentity;

/** The HTTP call that says who a credential belongs to. */
export interface HttpIdentity {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Dot path of the account id in the JSON answer (`0.tenantId` for an array). */
  idPath: string;
  namePath?: string;
  /** A field that must be `true` (Slack answers errors with HTTP 200 and `ok: false`). */
  okField?: string;
  /** Answer fields kept as connection parameters: parameter name → dot path. */
  params?: Record<string, string>;
}

/**
 * A database whose "key" is a connection string: the check is logging in (with a short timeout)
 * and asking the server who we are; the identity is `user@host:port/database`, named `user@database`.
 */
export interface DatabaseIdentity {
  strategy: 'postgresql';
}

export function isDatabaseIdentity(identity: IdentityEndpoint): identity is DatabaseIdentity {
  return 'strategy' in identity && identity.strategy === 'postgresql';
}

/**
 * An API the connection's own definition describes (the REST platform): the check is a GET of its
 * first resource with the key, sent the way the definition says; the identity is the API's base URL.
 */
export interface DefinedApiIdentity {
  strategy: 'definition';
}

export function isDefinedApiIdentity(identity: IdentityEndpoint): identity is DefinedApiIdentity {
  return 'strategy' in identity && identity.strategy === 'definition';
}

/** How a platform takes a token back. */
export type Revocation =
  /** RFC 7009: POST `token=…&token_type_hint=…`, form-encoded, with client authentication. */
  | { style: 'rfc7009'; url: string; token: 'access_token' | 'refresh_token'; clientAuth: TokenEndpointAuthMethod | 'none' }
  /** POST `{"token": "…"}` as JSON, client id and secret in Basic authentication (Intuit, Notion). */
  | { style: 'json'; url: string; token: 'access_token' | 'refresh_token' }
  /** A call authenticated with the access token itself, the way the API is called (Dropbox, Slack, Zendesk, Shopify). */
  | { style: 'bearer'; url: string; method: 'POST' | 'DELETE' }
  /** DELETE with the token in the path (HubSpot: `/oauth/v1/refresh-tokens/{token}`). */
  | { style: 'token-in-path'; url: string; token: 'access_token' | 'refresh_token' }
  /** GitHub: DELETE /applications/{client_id}/grant, Basic client authentication, `{"access_token": "…"}`. */
  | { style: 'github-grant'; url: string };

export interface ParameterSpec {
  name: string;
  label: string;
  description: string;
  /** Anchored regular expression the value must match. */
  pattern: string;
  /** A further check of a value that matched: what is wrong with it, or null. */
  check?: (value: string) => string | null;
}

export interface OAuth2Spec {
  authorizeUrl: string;
  tokenUrl: string;
  revocation?: Revocation;
  /** What ListBackup asks for: read access to what it backs up, plus what refresh needs. */
  scopes: string[];
  scopeSeparator: ' ' | ',';
  /** Whether the platform accepts a PKCE S256 challenge (sent whenever it does). */
  pkce: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  tokenRequestFormat: 'form' | 'json';
  /** Extra authorization request parameters (offline access, consent prompt, audience). */
  authorizeParams?: Record<string, string>;
  /** Parameters the platform adds to the redirect back to us. */
  callbackParams: (ParameterSpec & { required: boolean })[];
  /** Token response fields to keep as connection parameters (not secrets): name, dot path, pattern. */
  tokenResponseParams: { name: string; path: string; pattern: string }[];
  /** Whether the platform issues refresh tokens (access tokens then expire). */
  refreshTokens: boolean;
  /** Whether each refresh returns a new refresh token that replaces the old one. */
  rotatesRefreshTokens: boolean;
  credential: CredentialHeader;
  identity: IdentityEndpoint;
  docsUrl: string;
}

export interface ApiKeySpec {
  /** What the platform calls it ("Secret key", "Personal access token"). */
  label: string;
  /** Anchored regular expression of a well-formed key. */
  pattern: string;
  /** Shown when a key does not match: where to find one and what it looks like. */
  hint: string;
  credential: CredentialHeader;
  /** Parameters read from the key itself: name → regular expression with one capture group. */
  paramsFromKey?: Record<string, string>;
  identity: IdentityEndpoint;
  docsUrl: string;
}

export interface PlatformResource {
  name: string;
  description: string;
  /** Whether a backup can fetch only what changed since the last one. */
  incremental: boolean;
  /** How changes are found when incremental. */
  cursor?: string;
}

export interface RateLimit {
  /** What the limit applies to ("per account", "per app per store"). */
  scope: string;
  limit?: number;
  windowSeconds?: number;
  description: string;
}

export interface PlatformDefinition {
  /** Stable key, used in URLs, config names and by connectors; never changes once published. */
  slug: string;
  name: string;
  category: PlatformCategory;
  description: string;
  websiteUrl: string;
  /** API root for connectors (a template); empty for a database, which is reached through its connection string. */
  apiBaseUrl: string;
  /** Headers every API call needs (API version pins). */
  apiHeaders?: Record<string, string>;
  /** What the user must tell us before connecting (the shop domain, the subdomain). */
  connectParams?: ParameterSpec[];
  oauth2?: OAuth2Spec;
  apiKey?: ApiKeySpec;
  resources: PlatformResource[];
  rateLimits: RateLimit[];
}

const bearer: CredentialHeader = { header: 'Authorization', prefix: 'Bearer ' };

export const PLATFORM_REGISTRY: readonly PlatformDefinition[] = [
  {
    slug: 'stripe',
    name: 'Stripe',
    category: 'PAYMENTS',
    description: 'Payments, billing and subscriptions.',
    websiteUrl: 'https://stripe.com',
    apiBaseUrl: 'https://api.stripe.com/v1',
    apiKey: {
      label: 'Secret or restricted key',
      pattern: '^(sk|rk)_(live|test)_[0-9A-Za-z]{10,247}$',
      hint: 'A Stripe secret key (sk_live_… or sk_test_…) or, better, a read-only restricted key (rk_live_… or rk_test_…) from Developers › API keys.',
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.stripe.com/v1/account', idPath: 'id', namePath: 'settings.dashboard.display_name' },
      docsUrl: 'https://docs.stripe.com/keys',
    },
    resources: [
      { name: 'customers', description: 'Customers with their metadata and default payment method.', incremental: true, cursor: 'created[gte], and the events API for updates (30 days)' },
      { name: 'charges', description: 'Charges, including failed ones.', incremental: true, cursor: 'created[gte]' },
      { name: 'payment_intents', description: 'Payment intents.', incremental: true, cursor: 'created[gte]' },
      { name: 'invoices', description: 'Invoices and their line items.', incremental: true, cursor: 'created[gte], and the events API for updates (30 days)' },
      { name: 'subscriptions', description: 'Subscriptions in every status.', incremental: true, cursor: 'created[gte], and the events API for updates (30 days)' },
      { name: 'products', description: 'Products.', incremental: true, cursor: 'created[gte]' },
      { name: 'prices', description: 'Prices.', incremental: true, cursor: 'created[gte]' },
      { name: 'refunds', description: 'Refunds.', incremental: true, cursor: 'created[gte]' },
      { name: 'disputes', description: 'Disputes.', incremental: true, cursor: 'created[gte]' },
      { name: 'payouts', description: 'Payouts to the bank account.', incremental: true, cursor: 'created[gte]' },
      { name: 'balance_transactions', description: 'Balance transactions (the ledger).', incremental: true, cursor: 'created[gte]' },
      { name: 'coupons', description: 'Coupons.', incremental: false },
    ],
    rateLimits: [
      { scope: 'per account, live mode', limit: 100, windowSeconds: 1, description: '100 read and 100 write operations per second in live mode.' },
      { scope: 'per account, test mode', limit: 25, windowSeconds: 1, description: '25 read and 25 write operations per second in test mode.' },
    ],
  },
  {
    slug: 'shopify',
    name: 'Shopify',
    category: 'COMMERCE',
    description: 'Online stores: products, orders, customers and content.',
    websiteUrl: 'https://www.shopify.com',
    apiBaseUrl: 'https://{shop}/admin/api/2025-07',
    connectParams: [
      {
        name: 'shop',
        label: 'Shop domain',
        description: 'The store’s permanent myshopify.com domain, for example acme.myshopify.com.',
        pattern: '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$',
      },
    ],
    oauth2: {
      authorizeUrl: 'https://{shop}/admin/oauth/authorize',
      tokenUrl: 'https://{shop}/admin/oauth/access_token',
      revocation: { style: 'bearer', url: 'https://{shop}/admin/api_permissions/current.json', method: 'DELETE' },
      scopes: ['read_products', 'read_orders', 'read_customers', 'read_inventory', 'read_fulfillments', 'read_content', 'read_discounts', 'read_locations'],
      scopeSeparator: ',',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'json',
      callbackParams: [
        { name: 'shop', label: 'Shop domain', description: 'The shop that installed the app; must be the one the flow started for.', pattern: '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$', required: true },
        { name: 'host', label: 'Host', description: 'Base64 of the admin host, for embedded apps.', pattern: '^[A-Za-z0-9+/=_-]{1,512}$', required: false },
      ],
      tokenResponseParams: [],
      refreshTokens: false,
      rotatesRefreshTokens: false,
      credential: { header: 'X-Shopify-Access-Token', prefix: '' },
      identity: { method: 'GET', url: 'https://{shop}/admin/api/2025-07/shop.json', idPath: 'shop.id', namePath: 'shop.name' },
      docsUrl: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
    },
    resources: [
      { name: 'products', description: 'Products, variants and images.', incremental: true, cursor: 'updated_at_min' },
      { name: 'orders', description: 'Orders (the last 60 days unless read_all_orders is granted).', incremental: true, cursor: 'updated_at_min' },
      { name: 'customers', description: 'Customers and addresses.', incremental: true, cursor: 'updated_at_min' },
      { name: 'inventory_levels', description: 'Inventory per location.', incremental: true, cursor: 'updated_at_min' },
      { name: 'collections', description: 'Custom and smart collections.', incremental: true, cursor: 'updated_at_min' },
      { name: 'pages', description: 'Online store pages and blog articles.', incremental: true, cursor: 'updated_at_min' },
      { name: 'price_rules', description: 'Price rules and discount codes.', incremental: true, cursor: 'updated_at_min' },
      { name: 'locations', description: 'Locations.', incremental: false },
    ],
    rateLimits: [
      { scope: 'per app per store (REST Admin API)', limit: 40, description: 'Leaky bucket of 40 requests, leaking 2 per second (Shopify Plus: 400 and 20).' },
      { scope: 'per app per store (GraphQL Admin API)', limit: 1000, description: 'Bucket of 1,000 cost points, restored at 50 points per second (Plus: 100).' },
    ],
  },
  {
    slug: 'hubspot',
    name: 'HubSpot',
    category: 'CRM',
    description: 'CRM, marketing and service hub.',
    websiteUrl: 'https://www.hubspot.com',
    apiBaseUrl: 'https://api.hubapi.com',
    oauth2: {
      authorizeUrl: 'https://app.hubspot.com/oauth/authorize',
      tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
      revocation: { style: 'token-in-path', url: 'https://api.hubapi.com/oauth/v1/refresh-tokens/{token}', token: 'refresh_token' },
      scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.companies.read', 'crm.objects.deals.read', 'crm.objects.owners.read', 'tickets', 'e-commerce'],
      scopeSeparator: ' ',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: false,
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.hubapi.com/account-info/v3/details', idPath: 'portalId', namePath: 'uiDomain' },
      docsUrl: 'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
    },
    resources: [
      { name: 'contacts', description: 'Contacts with all properties.', incremental: true, cursor: 'lastmodifieddate (search API)' },
      { name: 'companies', description: 'Companies.', incremental: true, cursor: 'hs_lastmodifieddate (search API)' },
      { name: 'deals', description: 'Deals and pipelines.', incremental: true, cursor: 'hs_lastmodifieddate (search API)' },
      { name: 'tickets', description: 'Service tickets.', incremental: true, cursor: 'hs_lastmodifieddate (search API)' },
      { name: 'products', description: 'Products and line items.', incremental: true, cursor: 'hs_lastmodifieddate (search API)' },
      { name: 'engagements', description: 'Calls, emails, meetings, notes and tasks.', incremental: true, cursor: 'hs_lastmodifieddate (search API)' },
      { name: 'owners', description: 'Owners (users who own records).', incremental: false },
    ],
    rateLimits: [
      { scope: 'per installed account (public OAuth app)', limit: 110, windowSeconds: 10, description: '110 requests every 10 seconds per HubSpot account.' },
      { scope: 'search API', limit: 5, windowSeconds: 1, description: 'CRM search endpoints: 5 requests per second per account.' },
    ],
  },
  {
    slug: 'salesforce',
    name: 'Salesforce',
    category: 'CRM',
    description: 'Sales Cloud and Service Cloud records.',
    websiteUrl: 'https://www.salesforce.com',
    apiBaseUrl: '{instance_url}/services/data/v62.0',
    oauth2: {
      authorizeUrl: 'https://login.salesforce.com/services/oauth2/authorize',
      tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
      revocation: { style: 'rfc7009', url: 'https://login.salesforce.com/services/oauth2/revoke', token: 'refresh_token', clientAuth: 'none' },
      scopes: ['api', 'refresh_token'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [
        { name: 'instance_url', path: 'instance_url', pattern: '^https://[A-Za-z0-9.-]+(:[0-9]+)?$' },
        { name: 'identity_url', path: 'id', pattern: '^https://[A-Za-z0-9.-]+(:[0-9]+)?/id/[A-Za-z0-9]+/[A-Za-z0-9]+$' },
      ],
      refreshTokens: true,
      rotatesRefreshTokens: false,
      credential: bearer,
      identity: { method: 'GET', url: '{instance_url}/services/oauth2/userinfo', idPath: 'organization_id', namePath: 'preferred_username' },
      docsUrl: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
    },
    resources: [
      { name: 'Account', description: 'Accounts.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'Contact', description: 'Contacts.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'Lead', description: 'Leads.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'Opportunity', description: 'Opportunities.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'Case', description: 'Cases.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'Task', description: 'Tasks and activities.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'ContentVersion', description: 'Files.', incremental: true, cursor: 'SystemModstamp' },
      { name: 'custom_objects', description: 'Every custom object (__c) the user can read.', incremental: true, cursor: 'SystemModstamp' },
    ],
    rateLimits: [
      { scope: 'per org, rolling 24 hours', limit: 100000, windowSeconds: 86400, description: 'Enterprise Edition: 100,000 requests plus 1,000 per Salesforce user license every 24 hours.' },
      { scope: 'per org', limit: 25, description: 'At most 25 concurrent long-running (over 20 s) requests in production.' },
    ],
  },
  {
    slug: 'quickbooks',
    name: 'QuickBooks Online',
    category: 'ACCOUNTING',
    description: 'Intuit QuickBooks Online accounting.',
    websiteUrl: 'https://quickbooks.intuit.com',
    apiBaseUrl: 'https://quickbooks.api.intuit.com/v3/company/{realmId}',
    oauth2: {
      authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
      tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
      revocation: { style: 'json', url: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke', token: 'refresh_token' },
      scopes: ['com.intuit.quickbooks.accounting'],
      scopeSeparator: ' ',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenRequestFormat: 'form',
      callbackParams: [
        { name: 'realmId', label: 'Company id', description: 'The QuickBooks company (realm) the user connected.', pattern: '^[0-9]{1,32}$', required: true },
      ],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: {
        method: 'GET',
        url: 'https://quickbooks.api.intuit.com/v3/company/{realmId}/companyinfo/{realmId}',
        headers: { Accept: 'application/json' },
        idPath: 'CompanyInfo.Id',
        namePath: 'CompanyInfo.CompanyName',
      },
      docsUrl: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    },
    resources: [
      { name: 'Customer', description: 'Customers.', incremental: true, cursor: 'ChangeDataCapture (30 days) or MetaData.LastUpdatedTime' },
      { name: 'Invoice', description: 'Invoices.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'Payment', description: 'Payments received.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'Bill', description: 'Bills.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'Vendor', description: 'Vendors.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'Item', description: 'Products and services.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'Account', description: 'Chart of accounts.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'JournalEntry', description: 'Journal entries.', incremental: true, cursor: 'ChangeDataCapture or MetaData.LastUpdatedTime' },
      { name: 'reports', description: 'Profit and loss, balance sheet (point-in-time).', incremental: false },
    ],
    rateLimits: [
      { scope: 'per company (realm)', limit: 500, windowSeconds: 60, description: '500 requests per minute per company.' },
      { scope: 'per company (realm)', limit: 10, description: 'At most 10 concurrent requests per company; batch: 40 requests per minute.' },
    ],
  },
  {
    slug: 'xero',
    name: 'Xero',
    category: 'ACCOUNTING',
    description: 'Xero accounting.',
    websiteUrl: 'https://www.xero.com',
    apiBaseUrl: 'https://api.xero.com/api.xro/2.0',
    oauth2: {
      authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
      tokenUrl: 'https://identity.xero.com/connect/token',
      revocation: { style: 'rfc7009', url: 'https://identity.xero.com/connect/revocation', token: 'refresh_token', clientAuth: 'client_secret_basic' },
      scopes: ['offline_access', 'accounting.transactions.read', 'accounting.contacts.read', 'accounting.settings.read', 'accounting.reports.read', 'accounting.attachments.read'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: {
        method: 'GET',
        url: 'https://api.xero.com/connections',
        idPath: '0.tenantId',
        namePath: '0.tenantName',
        params: { tenantId: '0.tenantId' },
      },
      docsUrl: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
    },
    resources: [
      { name: 'Invoices', description: 'Sales invoices and bills.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'Contacts', description: 'Customers and suppliers.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'Accounts', description: 'Chart of accounts.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'BankTransactions', description: 'Spend and receive money.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'Payments', description: 'Payments.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'CreditNotes', description: 'Credit notes.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'ManualJournals', description: 'Manual journals.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'Items', description: 'Inventory items.', incremental: true, cursor: 'If-Modified-Since' },
      { name: 'Reports', description: 'Balance sheet and profit and loss (point-in-time).', incremental: false },
    ],
    rateLimits: [
      { scope: 'per tenant', limit: 60, windowSeconds: 60, description: '60 calls per minute and 5,000 per day per organisation; 5 concurrent calls.' },
      { scope: 'per app', limit: 10000, windowSeconds: 60, description: '10,000 calls per minute across all tenants.' },
    ],
  },
  {
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
    resources: [
      { name: 'repositories', description: 'Git repositories, mirrored with every branch and tag.', incremental: true, cursor: 'pushed_at, then git fetch' },
      { name: 'issues', description: 'Issues and their comments.', incremental: true, cursor: 'since (updated_at)' },
      { name: 'pull_requests', description: 'Pull requests, reviews and comments.', incremental: true, cursor: 'sort=updated' },
      { name: 'releases', description: 'Releases and their assets.', incremental: false },
      { name: 'wikis', description: 'Repository wikis (git).', incremental: true, cursor: 'git fetch' },
      { name: 'gists', description: 'Gists.', incremental: true, cursor: 'since' },
    ],
    rateLimits: [
      { scope: 'per user token', limit: 5000, windowSeconds: 3600, description: '5,000 REST requests per hour per user (15,000 for GitHub Apps on Enterprise Cloud).' },
      { scope: 'secondary', limit: 900, windowSeconds: 60, description: 'Secondary limits: at most 100 concurrent requests and 900 points per minute per REST endpoint.' },
    ],
  },
  {
    slug: 'gitlab',
    name: 'GitLab',
    category: 'DEVELOPER',
    description: 'Projects, repositories, issues and merge requests on GitLab.com.',
    websiteUrl: 'https://gitlab.com',
    apiBaseUrl: 'https://gitlab.com/api/v4',
    oauth2: {
      authorizeUrl: 'https://gitlab.com/oauth/authorize',
      tokenUrl: 'https://gitlab.com/oauth/token',
      revocation: { style: 'rfc7009', url: 'https://gitlab.com/oauth/revoke', token: 'access_token', clientAuth: 'client_secret_post' },
      scopes: ['read_api', 'read_user', 'read_repository'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: { method: 'GET', url: 'https://gitlab.com/api/v4/user', idPath: 'id', namePath: 'username' },
      docsUrl: 'https://docs.gitlab.com/api/oauth2/',
    },
    apiKey: {
      label: 'Personal access token',
      pattern: '^glpat-[0-9A-Za-z_.-]{20,}$',
      hint: 'A personal access token (glpat-…) with the read_api and read_repository scopes, from Preferences › Access tokens.',
      credential: { header: 'PRIVATE-TOKEN', prefix: '' },
      identity: { method: 'GET', url: 'https://gitlab.com/api/v4/user', idPath: 'id', namePath: 'username' },
      docsUrl: 'https://docs.gitlab.com/user/profile/personal_access_tokens/',
    },
    resources: [
      { name: 'projects', description: 'Repositories, mirrored.', incremental: true, cursor: 'last_activity_after, then git fetch' },
      { name: 'issues', description: 'Issues and notes.', incremental: true, cursor: 'updated_after' },
      { name: 'merge_requests', description: 'Merge requests and discussions.', incremental: true, cursor: 'updated_after' },
      { name: 'wikis', description: 'Project wikis.', incremental: false },
      { name: 'snippets', description: 'Snippets.', incremental: false },
    ],
    rateLimits: [{ scope: 'per user (GitLab.com)', limit: 2000, windowSeconds: 60, description: 'Authenticated API traffic: 2,000 requests per minute per user.' }],
  },
  {
    slug: 'google-drive',
    name: 'Google Drive',
    category: 'FILES',
    description: 'Files, folders and shared drives in Google Drive.',
    websiteUrl: 'https://drive.google.com',
    apiBaseUrl: 'https://www.googleapis.com/drive/v3',
    oauth2: {
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      revocation: { style: 'rfc7009', url: 'https://oauth2.googleapis.com/revoke', token: 'refresh_token', clientAuth: 'none' },
      scopes: ['https://www.googleapis.com/auth/drive.readonly'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'form',
      authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: false,
      credential: bearer,
      identity: { method: 'GET', url: 'https://www.googleapis.com/drive/v3/about?fields=user', idPath: 'user.permissionId', namePath: 'user.emailAddress' },
      docsUrl: 'https://developers.google.com/identity/protocols/oauth2/web-server',
    },
    resources: [
      { name: 'files', description: 'Files (Google Docs exported), folders and their revisions.', incremental: true, cursor: 'changes.list page token' },
      { name: 'shared_drives', description: 'Shared drives.', incremental: true, cursor: 'changes.list page token' },
      { name: 'permissions', description: 'Sharing settings of each file.', incremental: false },
      { name: 'comments', description: 'Comments and replies.', incremental: true, cursor: 'startModifiedTime' },
    ],
    rateLimits: [
      { scope: 'per project', limit: 12000, windowSeconds: 60, description: '12,000 queries per minute per project (default quota).' },
      { scope: 'per user', limit: 12000, windowSeconds: 60, description: '12,000 queries per minute per user; 750 GB of uploads and copies per day.' },
    ],
  },
  {
    slug: 'dropbox',
    name: 'Dropbox',
    category: 'FILES',
    description: 'Files and folders in Dropbox.',
    websiteUrl: 'https://www.dropbox.com',
    apiBaseUrl: 'https://api.dropboxapi.com/2',
    oauth2: {
      authorizeUrl: 'https://www.dropbox.com/oauth2/authorize',
      tokenUrl: 'https://api.dropboxapi.com/oauth2/token',
      revocation: { style: 'bearer', url: 'https://api.dropboxapi.com/2/auth/token/revoke', method: 'POST' },
      scopes: ['account_info.read', 'files.metadata.read', 'files.content.read', 'sharing.read'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenRequestFormat: 'form',
      authorizeParams: { token_access_type: 'offline' },
      callbackParams: [],
      tokenResponseParams: [{ name: 'account_id', path: 'account_id', pattern: '^dbid:[A-Za-z0-9_-]+$' }],
      refreshTokens: true,
      rotatesRefreshTokens: false,
      credential: bearer,
      identity: {
        method: 'POST',
        url: 'https://api.dropboxapi.com/2/users/get_current_account',
        headers: { 'Content-Type': 'application/json' },
        body: 'null',
        idPath: 'account_id',
        namePath: 'email',
      },
      docsUrl: 'https://developers.dropbox.com/oauth-guide',
    },
    resources: [
      { name: 'files', description: 'Files and folders with their content.', incremental: true, cursor: 'list_folder/continue cursor' },
      { name: 'shared_links', description: 'Shared links.', incremental: false },
    ],
    rateLimits: [{ scope: 'per user and per app', description: 'Not published; Dropbox answers 429 with Retry-After when exceeded.' }],
  },
  {
    slug: 'box',
    name: 'Box',
    category: 'FILES',
    description: 'Files, folders and collaborations in Box.',
    websiteUrl: 'https://www.box.com',
    apiBaseUrl: 'https://api.box.com/2.0',
    oauth2: {
      authorizeUrl: 'https://account.box.com/api/oauth2/authorize',
      tokenUrl: 'https://api.box.com/oauth2/token',
      revocation: { style: 'rfc7009', url: 'https://api.box.com/oauth2/revoke', token: 'access_token', clientAuth: 'client_secret_post' },
      scopes: ['root_readonly'],
      scopeSeparator: ' ',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.box.com/2.0/users/me', idPath: 'id', namePath: 'login' },
      docsUrl: 'https://developer.box.com/guides/authentication/oauth2/',
    },
    resources: [
      { name: 'files', description: 'Files, versions and folders.', incremental: true, cursor: 'events stream_position' },
      { name: 'collaborations', description: 'Who has access to what.', incremental: false },
      { name: 'comments', description: 'Comments on files.', incremental: false },
      { name: 'metadata', description: 'Metadata instances on files.', incremental: false },
    ],
    rateLimits: [
      { scope: 'per user', limit: 1000, windowSeconds: 60, description: '1,000 API requests per minute per user.' },
      { scope: 'per user (uploads)', limit: 240, windowSeconds: 60, description: '240 file uploads per minute per user.' },
    ],
  },
  {
    slug: 'slack',
    name: 'Slack',
    category: 'COMMUNICATION',
    description: 'Channels, messages and files of a Slack workspace.',
    websiteUrl: 'https://slack.com',
    apiBaseUrl: 'https://slack.com/api',
    oauth2: {
      authorizeUrl: 'https://slack.com/oauth/v2/authorize',
      tokenUrl: 'https://slack.com/api/oauth.v2.access',
      revocation: { style: 'bearer', url: 'https://slack.com/api/auth.revoke', method: 'POST' },
      scopes: ['channels:read', 'channels:history', 'groups:read', 'groups:history', 'users:read', 'files:read', 'team:read'],
      scopeSeparator: ',',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [
        { name: 'team_id', path: 'team.id', pattern: '^T[A-Z0-9]+$' },
        { name: 'team_name', path: 'team.name', pattern: '^.{1,200}$' },
      ],
      // Only with token rotation turned on in the app's settings.
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: { method: 'POST', url: 'https://slack.com/api/auth.test', idPath: 'team_id', namePath: 'team', okField: 'ok' },
      docsUrl: 'https://docs.slack.dev/authentication/installing-with-oauth',
    },
    resources: [
      { name: 'channels', description: 'Public and private channels the app was added to.', incremental: false },
      { name: 'messages', description: 'Channel history and threads.', incremental: true, cursor: 'oldest (message ts)' },
      { name: 'users', description: 'Members and profiles.', incremental: false },
      { name: 'files', description: 'Files shared in channels.', incremental: true, cursor: 'ts_from' },
    ],
    rateLimits: [
      { scope: 'per method per workspace (Tier 3)', limit: 50, windowSeconds: 60, description: 'conversations.history and conversations.replies: Tier 3, about 50 per minute (lower for non-Marketplace apps).' },
      { scope: 'per method per workspace (Tier 2)', limit: 20, windowSeconds: 60, description: 'conversations.list, users.list, files.list: Tier 2, about 20 per minute.' },
    ],
  },
  {
    slug: 'notion',
    name: 'Notion',
    category: 'PRODUCTIVITY',
    description: 'Pages, databases and comments of a Notion workspace.',
    websiteUrl: 'https://www.notion.so',
    apiBaseUrl: 'https://api.notion.com/v1',
    apiHeaders: { 'Notion-Version': '2022-06-28' },
    oauth2: {
      authorizeUrl: 'https://api.notion.com/v1/oauth/authorize',
      tokenUrl: 'https://api.notion.com/v1/oauth/token',
      revocation: { style: 'json', url: 'https://api.notion.com/v1/oauth/revoke', token: 'access_token' },
      // Notion has no scopes: the integration's capabilities and the pages the user shares decide.
      scopes: [],
      scopeSeparator: ' ',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenRequestFormat: 'json',
      authorizeParams: { owner: 'user' },
      callbackParams: [],
      tokenResponseParams: [
        { name: 'workspace_id', path: 'workspace_id', pattern: '^[0-9a-f-]{32,36}$' },
        { name: 'workspace_name', path: 'workspace_name', pattern: '^.{1,200}$' },
      ],
      refreshTokens: false,
      rotatesRefreshTokens: false,
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.notion.com/v1/users/me', headers: { 'Notion-Version': '2022-06-28' }, idPath: 'id', namePath: 'bot.workspace_name' },
      docsUrl: 'https://developers.notion.com/docs/authorization',
    },
    apiKey: {
      label: 'Internal integration secret',
      pattern: '^(secret_|ntn_)[A-Za-z0-9]{40,60}$',
      hint: 'An internal integration secret (ntn_… or secret_…) from notion.so/my-integrations; share the pages to back up with the integration.',
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.notion.com/v1/users/me', headers: { 'Notion-Version': '2022-06-28' }, idPath: 'id', namePath: 'bot.workspace_name' },
      docsUrl: 'https://developers.notion.com/docs/create-a-notion-integration',
    },
    resources: [
      { name: 'pages', description: 'Pages and their blocks.', incremental: true, cursor: 'search sorted by last_edited_time' },
      { name: 'databases', description: 'Databases, their schema and rows.', incremental: true, cursor: 'last_edited_time filter' },
      { name: 'comments', description: 'Comments.', incremental: false },
      { name: 'users', description: 'Workspace members.', incremental: false },
    ],
    rateLimits: [{ scope: 'per integration', limit: 3, windowSeconds: 1, description: 'An average of 3 requests per second, with short bursts allowed.' }],
  },
  {
    slug: 'zendesk',
    name: 'Zendesk',
    category: 'SUPPORT',
    description: 'Zendesk Support tickets, users and help center.',
    websiteUrl: 'https://www.zendesk.com',
    apiBaseUrl: 'https://{subdomain}.zendesk.com/api/v2',
    connectParams: [
      { name: 'subdomain', label: 'Zendesk subdomain', description: 'The part before .zendesk.com, for example acme for acme.zendesk.com.', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    ],
    oauth2: {
      authorizeUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
      tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
      revocation: { style: 'bearer', url: 'https://{subdomain}.zendesk.com/api/v2/oauth/tokens/current.json', method: 'DELETE' },
      scopes: ['read'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'json',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: { method: 'GET', url: 'https://{subdomain}.zendesk.com/api/v2/users/me.json', idPath: 'user.id', namePath: 'user.email' },
      docsUrl: 'https://support.zendesk.com/hc/en-us/articles/4408845965210',
    },
    resources: [
      { name: 'tickets', description: 'Tickets with comments and attachments.', incremental: true, cursor: 'incremental export (start_time / cursor)' },
      { name: 'users', description: 'End users and agents.', incremental: true, cursor: 'incremental export' },
      { name: 'organizations', description: 'Organizations.', incremental: true, cursor: 'incremental export' },
      { name: 'articles', description: 'Help center articles.', incremental: true, cursor: 'incremental articles export' },
      { name: 'macros', description: 'Macros, triggers, automations and views.', incremental: false },
    ],
    rateLimits: [
      { scope: 'per account, by plan', limit: 400, windowSeconds: 60, description: 'Support API: Team 200, Growth and Professional 400, Enterprise 700 requests per minute; 2,500 with High Volume.' },
      { scope: 'incremental exports', limit: 10, windowSeconds: 60, description: 'Incremental export endpoints: 10 requests per minute (30 with High Volume).' },
    ],
  },
  {
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
    resources: [
      { name: 'lists', description: 'Audiences and their settings.', incremental: false },
      { name: 'members', description: 'Audience members.', incremental: true, cursor: 'since_last_changed' },
      { name: 'campaigns', description: 'Campaigns and their content.', incremental: true, cursor: 'since_create_time' },
      { name: 'templates', description: 'Templates.', incremental: true, cursor: 'since_date_created' },
      { name: 'automations', description: 'Classic automations.', incremental: false },
      { name: 'reports', description: 'Campaign reports.', incremental: false },
    ],
    rateLimits: [{ scope: 'per user', limit: 10, description: 'At most 10 simultaneous connections; requests time out after 120 seconds.' }],
  },
  {
    slug: 'jira',
    name: 'Jira',
    category: 'PRODUCTIVITY',
    description: 'Jira Cloud projects, issues and comments (Atlassian).',
    websiteUrl: 'https://www.atlassian.com/software/jira',
    apiBaseUrl: 'https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3',
    oauth2: {
      authorizeUrl: 'https://auth.atlassian.com/authorize',
      tokenUrl: 'https://auth.atlassian.com/oauth/token',
      // Atlassian has no revocation endpoint for 3LO: users remove the app under Connected apps.
      scopes: ['read:jira-work', 'read:jira-user', 'offline_access'],
      scopeSeparator: ' ',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'json',
      authorizeParams: { audience: 'api.atlassian.com', prompt: 'consent' },
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: {
        method: 'GET',
        url: 'https://api.atlassian.com/oauth/token/accessible-resources',
        idPath: '0.id',
        namePath: '0.name',
        params: { cloudId: '0.id' },
      },
      docsUrl: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    },
    resources: [
      { name: 'issues', description: 'Issues with fields, comments and history.', incremental: true, cursor: 'JQL updated >= last run' },
      { name: 'projects', description: 'Projects and their configuration.', incremental: false },
      { name: 'worklogs', description: 'Work logs.', incremental: true, cursor: 'worklog/updated since' },
      { name: 'attachments', description: 'Issue attachments.', incremental: true, cursor: 'with their issue' },
      { name: 'users', description: 'Users.', incremental: false },
    ],
    rateLimits: [{ scope: 'per app per site', description: 'Cost-based budget per app and site; 429 with Retry-After and X-RateLimit headers when exceeded.' }],
  },
  {
    slug: 'intercom',
    name: 'Intercom',
    category: 'SUPPORT',
    description: 'Intercom contacts, companies, conversations and articles.',
    websiteUrl: 'https://www.intercom.com',
    apiBaseUrl: 'https://api.intercom.io',
    apiHeaders: { 'Intercom-Version': '2.11' },
    oauth2: {
      authorizeUrl: 'https://app.intercom.com/oauth',
      tokenUrl: 'https://api.intercom.io/auth/eagle/token',
      // Intercom has no revocation endpoint: workspaces uninstall the app in their settings.
      scopes: [],
      scopeSeparator: ' ',
      pkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: false,
      rotatesRefreshTokens: false,
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.intercom.io/me', headers: { 'Intercom-Version': '2.11' }, idPath: 'app.id_code', namePath: 'app.name' },
      docsUrl: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
    },
    apiKey: {
      label: 'Access token',
      pattern: '^dG9rOj[A-Za-z0-9+/=_-]{20,}$',
      hint: 'The access token of a private app, from Developer Hub › your app › Authentication (it starts with dG9rOj).',
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.intercom.io/me', headers: { 'Intercom-Version': '2.11' }, idPath: 'app.id_code', namePath: 'app.name' },
      docsUrl: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication',
    },
    resources: [
      { name: 'contacts', description: 'Users and leads.', incremental: true, cursor: 'search updated_at' },
      { name: 'companies', description: 'Companies.', incremental: false },
      { name: 'conversations', description: 'Conversations with their parts.', incremental: true, cursor: 'search updated_at' },
      { name: 'tickets', description: 'Tickets.', incremental: true, cursor: 'search updated_at' },
      { name: 'articles', description: 'Help center articles.', incremental: false },
    ],
    rateLimits: [
      { scope: 'per app', limit: 10000, windowSeconds: 60, description: '10,000 calls per minute per app, enforced in 10-second windows.' },
      { scope: 'per workspace', limit: 25000, windowSeconds: 60, description: '25,000 calls per minute per workspace.' },
    ],
  },
  {
    slug: 'airtable',
    name: 'Airtable',
    category: 'PRODUCTIVITY',
    description: 'Airtable bases, tables and records.',
    websiteUrl: 'https://airtable.com',
    apiBaseUrl: 'https://api.airtable.com/v0',
    oauth2: {
      authorizeUrl: 'https://airtable.com/oauth2/v1/authorize',
      tokenUrl: 'https://airtable.com/oauth2/v1/token',
      scopes: ['data.records:read', 'data.recordComments:read', 'schema.bases:read', 'user.email:read'],
      scopeSeparator: ' ',
      pkce: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      tokenRequestFormat: 'form',
      callbackParams: [],
      tokenResponseParams: [],
      refreshTokens: true,
      rotatesRefreshTokens: true,
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.airtable.com/v0/meta/whoami', idPath: 'id', namePath: 'email' },
      docsUrl: 'https://airtable.com/developers/web/guides/oauth-integrations',
    },
    apiKey: {
      label: 'Personal access token',
      pattern: '^pat[A-Za-z0-9]{14}\\.[0-9a-f]{64}$',
      hint: 'A personal access token (pat….…) with the data.records:read and schema.bases:read scopes, from airtable.com/create/tokens.',
      credential: bearer,
      identity: { method: 'GET', url: 'https://api.airtable.com/v0/meta/whoami', idPath: 'id', namePath: 'email' },
      docsUrl: 'https://airtable.com/developers/web/guides/personal-access-tokens',
    },
    resources: [
      { name: 'bases', description: 'Bases and their schema.', incremental: false },
      { name: 'records', description: 'Records of every table, with attachments.', incremental: true, cursor: 'LAST_MODIFIED_TIME() when the table has one' },
      { name: 'comments', description: 'Record comments.', incremental: false },
    ],
    rateLimits: [
      { scope: 'per base', limit: 5, windowSeconds: 1, description: '5 requests per second per base; 30 seconds of back-off after a 429.' },
      { scope: 'per user or service account', limit: 50, windowSeconds: 1, description: '50 requests per second for all traffic of one personal access token owner.' },
    ],
  },
  {
    slug: 'postgresql',
    name: 'PostgreSQL',
    category: 'DATABASE',
    description: 'A PostgreSQL database: every table, with its rows.',
    websiteUrl: 'https://www.postgresql.org',
    apiBaseUrl: '',
    apiKey: {
      label: 'Connection string',
      pattern: '^postgres(ql)?://[^\\s/?#]+(/[^\\s?#]*)?(\\?[^\\s#]*)?$',
      hint: 'A connection URL, postgres://user:password@host:5432/database (postgresql:// works too; add ?sslmode=require for TLS), of a role that can read the tables to back up.',
      // Not sent in any header: the connection string is the credential, used to log in to the server.
      credential: { header: 'Authorization', prefix: '' },
      identity: { strategy: 'postgresql' },
      docsUrl: 'https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS',
    },
    resources: [
      {
        name: 'tables',
        description: 'Every table of the database, its rows as NDJSON, read from one consistent snapshot.',
        incremental: true,
        cursor: 'per table: the updated_at high-water mark and the row count; a table without updated_at is read whole',
      },
    ],
    rateLimits: [{ scope: 'per database', description: 'None documented: bounded by the server’s max_connections and the role’s connection limit; a backup holds one connection.' }],
  },
  {
    slug: 'rest',
    name: 'REST API',
    category: 'OTHER',
    description: 'Any JSON API over HTTP: describe its base URL, how it takes the key, and for each resource its path, where the items are and how it pages.',
    websiteUrl: '',
    apiBaseUrl: '',
    connectParams: [
      {
        name: 'definition',
        label: 'API definition',
        description:
          'JSON: {"name", "baseUrl", "auth": {"type": "bearer" | "header" (with "name", "prefix") | "basic" | "none"}, "resources": [{"name", "path", "items" (JSON pointer to the list), "idField", "pagination": {"style": "none" | "cursor" | "page" | "link", …}, "incremental": {"param", "field"}}]}',
        pattern: '^\\{[\\s\\S]{0,65534}\\}$',
        check: checkDefinition,
      },
    ],
    apiKey: {
      label: 'API key',
      // Empty for an API without authentication; one that needs a key refuses an empty one.
      pattern: '^[\\x21-\\x7e]{0,4096}$',
      hint: 'The key or token the API takes, without spaces; the definition says how it is sent (auth). Leave it empty for an API without authentication (auth: none).',
      // Sent as the definition's `auth` says, not by this header.
      credential: bearer,
      identity: { strategy: 'definition' },
      // The definition finds items and ids with JSON Pointers.
      docsUrl: 'https://www.rfc-editor.org/rfc/rfc6901',
    },
    resources: [],
    rateLimits: [{ scope: 'per API', description: 'Whatever the API announces: Retry-After and the X-RateLimit-Reset family of headers are honoured.' }],
  },
];

/** The registry entry for a slug, if the code base still knows the platform. */
export function findDefinition(slug: string, registry: readonly PlatformDefinition[] = PLATFORM_REGISTRY): PlatformDefinition | undefined {
  return registry.find((platform) => platform.slug === slug);
}

export function authTypesOf(platform: Pick<PlatformDefinition, 'oauth2' | 'apiKey'>): AuthType[] {
  return [...(platform.oauth2 ? (['OAUTH2'] as const) : []), ...(platform.apiKey ? (['API_KEY'] as const) : [])];
}

/** The environment-variable stem of a platform: `google-drive` → `GOOGLE_DRIVE`. */
export function envStem(slug: string): string {
  return slug.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

function checkDefinition(value: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return 'The API definition is not JSON';
  }
  try {
    parseRestDefinition(json);
    return null;
  } catch (error) {
    if (error instanceof RestDefinitionError) return error.message;
    throw error;
  }
}

/**
 * What a source on a connection can back up: the platform's resources, or for an API the
 * connection's definition describes (REST), the resources it names.
 */
export function connectionResources(platform: PlatformDefinition, params: Record<string, string> | null | undefined): PlatformResource[] {
  if (!platform.apiKey || !isDefinedApiIdentity(platform.apiKey.identity)) return platform.resources;
  try {
    const definition = parseRestDefinition(JSON.parse(params?.definition ?? ''));
    return definition.resources.map((resource) => ({
      name: resource.name,
      description: `GET ${resource.path}`,
      incremental: Boolean(resource.incremental),
      ...(resource.incremental ? { cursor: `${resource.incremental.param}=<newest ${resource.incremental.field} seen>` } : {}),
    }));
  } catch {
    return [];
  }
}
