import type { Connector } from './sdk/index.ts';

/**
 * What a platform is to ListBackup: its definition (who it is, how to connect it, its rate limits,
 * the webhooks it sends) and the connector that backs it up. Each platform is one folder of this
 * package; `index.ts` lists them. OAuth client ids and secrets are never here: they come from the
 * deployment's configuration (the platforms subgraph's config.ts).
 *
 * URL templates take `{name}` placeholders filled from the connection's parameters: those the user
 * gives when connecting (`shop`, `subdomain`), those the platform adds to the callback (`realmId`)
 * or to its token response (`instance_url`), and those read from its identity endpoint (`dc`).
 */

export const PLATFORM_CATEGORIES = [
  'PAYMENTS',
  'COMMERCE',
  'CRM',
  'ACCOUNTING',
  'DEVELOPER',
  'FILES',
  'COMMUNICATION',
  'PRODUCTIVITY',
  'SUPPORT',
  'MARKETING',
  'DATABASE',
  'OTHER',
] as const;
export type PlatformCategory = (typeof PLATFORM_CATEGORIES)[number];

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
  /** How the platform signs its redirect back to us; a callback without a valid signature changes nothing. */
  callbackSignature?: CallbackSignature;
  /** Who the authorization server says it is (RFC 9207); a callback naming another changes nothing. */
  issuer?: IssuerSpec;
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

/**
 * A signed redirect: `param` carries the hex HMAC-SHA256, keyed with the app's client secret, of
 * every other query parameter (`signature` aside), sorted by name and form-encoded as
 * `name=value&…` (Shopify's `hmac`).
 */
export interface CallbackSignature {
  scheme: 'hmac-sha256-sorted-query';
  param: string;
}

/**
 * The authorization server's issuer identifier, as its metadata (RFC 8414 / OpenID discovery)
 * names it. A callback's `iss` parameter (RFC 9207), when there is one, must equal it exactly:
 * otherwise the code came from another server than the one the flow was started at (a mix-up).
 * `inAuthorizationResponse` is the metadata's `authorization_response_iss_parameter_supported`:
 * the server always sends `iss`, so a callback without it is refused too.
 */
export interface IssuerSpec {
  identifier: string;
  inAuthorizationResponse: boolean;
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
  rateLimits: RateLimit[];
  /** The webhooks the platform sends when data changes, which start an incremental backup. */
  webhooks?: WebhookSpec;
}

/** `Authorization: Bearer <token>`, the way most platforms take a credential. */
export const bearer: CredentialHeader = { header: 'Authorization', prefix: 'Bearer ' };

export function authTypesOf(platform: Pick<PlatformDefinition, 'oauth2' | 'apiKey'>): AuthType[] {
  return [...(platform.oauth2 ? (['OAUTH2'] as const) : []), ...(platform.apiKey ? (['API_KEY'] as const) : [])];
}

/** The environment-variable stem of a platform: `google-drive` → `GOOGLE_DRIVE`. */
export function envStem(slug: string): string {
  return slug.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/**
 * How a platform signs the webhooks it sends. The shared secret is the deployment's (configuration),
 * never part of the definition; during a rollover two are accepted.
 */
export type WebhookSignature = HmacWebhookSignature | StripeWebhookSignature | JwtWebhookSignature;

/** A part of what an HMAC signs: the request's method, its public URL, the raw body, the timestamp header's value, or fixed text. */
export type WebhookSignedPart = 'method' | 'url' | 'body' | 'timestamp' | { text: string };

/**
 * `<header>: <prefix><hex or base64 HMAC>` of the signed parts, concatenated: the raw body alone
 * (GitHub's `X-Hub-Signature-256: sha256=…`, Shopify, Dropbox, Intercom), or with a timestamp
 * (Slack's `v0:<timestamp>:<body>`, Zendesk, Box, HubSpot v3 over method, URL, body and timestamp).
 * With several headers, a delivery is genuine when any of them matches any secret (Box's primary
 * and secondary keys).
 */
export interface HmacWebhookSignature {
  scheme: 'hmac';
  algorithm: 'sha256' | 'sha1';
  headers: string[];
  prefix?: string;
  encoding: 'hex' | 'base64';
  /** What is signed, in order; the raw body when left out. */
  signed?: WebhookSignedPart[];
  timestamp?: WebhookTimestamp;
  /**
   * How the `url` part is written: as called, or with these percent-escapes decoded (HubSpot v3
   * decodes `%3A`, `%2F`, … but not the query's `?`).
   */
  decodeUrl?: string[];
}

export interface WebhookTimestamp {
  header: string;
  format: 'unix-seconds' | 'unix-milliseconds' | 'rfc3339';
  /** How far from now a timestamp may be; without it the timestamp is signed but its age is not checked. */
  toleranceSeconds?: number;
}

/** `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">[,v1=…]`, one `v1` per secret during a rollover. */
export interface StripeWebhookSignature {
  scheme: 'stripe';
  header: string;
  toleranceSeconds: number;
}

/**
 * `Authorization: Bearer <JWT>` signed HS256 with the app's client secret (Jira's webhooks registered
 * by an OAuth 2.0 app); a token past its `exp` is refused.
 */
export interface JwtWebhookSignature {
  scheme: 'jwt-hs256';
  header: string;
}

/** Where a value is found in a delivery: a header, a dot path in the JSON body (or in one event of a batch; `''` is the event itself), or a fixed value. */
export type DeliveryField = { header: string } | { path: string } | { value: string };

/** A check the platform makes of the endpoint, answered 200 (with the challenge it sent, as text/plain). */
export type WebhookHandshake =
  /** An unsigned GET carrying the challenge in a query parameter (Dropbox's `?challenge=`). */
  | { style: 'query-challenge'; param: string }
  /** A signed POST whose body says what it is and carries the challenge (Slack's `url_verification`). */
  | { style: 'body-challenge'; typePath: string; type: string; challengePath: string }
  /** An unsigned HEAD when the endpoint is registered (Intercom), answered with an empty 200. */
  | { style: 'head' };

export interface WebhookSpec {
  signature: WebhookSignature;
  handshake?: WebhookHandshake;
  /** Dot path of the array of events a delivery carries (HubSpot batches them, `''`: the body is the array); one event per delivery without it. */
  batch?: string;
  /** The platform's id of the delivery or event; without one, the sha256 of the signed content. */
  deliveryId?: DeliveryField;
  /** The event type of a delivery. */
  eventType: DeliveryField;
  /** The platform's id of the account the delivery is about, matched to a connection's `externalAccountId`; without it the route names the connection. */
  accountId?: DeliveryField;
  /** The connection parameter `accountId` is matched to instead of `externalAccountId` (Shopify names the shop by its domain, `shop`). */
  accountParam?: string;
  /** Which resources an event type (`*` wildcards allowed) changes: those are backed up incrementally. */
  events: { type: string; resources: string[] }[];
  docsUrl: string;
}

/** What the connector of a platform is built with. */
export interface ConnectorOptions {
  /** The platform's API root, replacing the public one (an Enterprise server, a local fake). */
  baseUrl?: string;
  /** For a platform each connection describes (REST): that connection's definition. */
  definition?: unknown;
}

/** One folder of the catalogue: a platform's definition and, once written, its connector. */
export interface CataloguePlatform {
  definition: PlatformDefinition;
  connector?: (options: ConnectorOptions) => Connector;
}

/** A resource as the catalogue publishes it: what the connector implements, with its flags. */
export interface CatalogueResource {
  name: string;
  description: string;
  /** Whether a backup fetches only what changed since the previous one. */
  incremental: boolean;
  /** How changes are found, when incremental. */
  cursor: string | null;
  /** Whether a snapshot of it can be written back to the platform. */
  restorable: boolean;
  /** Whether the platform's webhooks start a backup of it. */
  webhookTriggered: boolean;
  /** Whether its items are files (streamed bytes) rather than records. */
  binaryContent: boolean;
}
