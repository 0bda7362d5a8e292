/**
 * The catalogue: every platform ListBackup lists, one folder each (definition, connector, fake,
 * tests). This file is the list of folders; `catalogue.test.ts` fails when a folder is missing from
 * it. Platforms and jobs both read it, so what a platform offers is what its connector implements.
 */
import airtable from './airtable/index.ts';
import box from './box/index.ts';
import dropbox from './dropbox/index.ts';
import github from './github/index.ts';
import gitlab from './gitlab/index.ts';
import googleDrive from './google-drive/index.ts';
import hubspot from './hubspot/index.ts';
import intercom from './intercom/index.ts';
import jira from './jira/index.ts';
import mailchimp from './mailchimp/index.ts';
import notion from './notion/index.ts';
import postgresql from './postgresql/index.ts';
import quickbooks from './quickbooks/index.ts';
import rest from './rest/index.ts';
import salesforce from './salesforce/index.ts';
import shopify from './shopify/index.ts';
import slack from './slack/index.ts';
import stripe from './stripe/index.ts';
import xero from './xero/index.ts';
import zendesk from './zendesk/index.ts';
import type { CatalogueResource, CataloguePlatform, ConnectorOptions, PlatformDefinition } from './platform.ts';
import { canRestore, ConfigError, type Connector } from './sdk/index.ts';

export const CATALOGUE: readonly CataloguePlatform[] = [
  stripe,
  shopify,
  hubspot,
  salesforce,
  quickbooks,
  xero,
  github,
  gitlab,
  googleDrive,
  dropbox,
  box,
  slack,
  notion,
  zendesk,
  mailchimp,
  jira,
  intercom,
  airtable,
  postgresql,
  rest,
];

export const PLATFORM_DEFINITIONS: readonly PlatformDefinition[] = CATALOGUE.map((platform) => platform.definition);

/** The catalogue entry of a slug, if the code base knows the platform. */
export function findPlatform(slug: string): CataloguePlatform | undefined {
  return CATALOGUE.find((platform) => platform.definition.slug === slug);
}

export function findDefinition(slug: string): PlatformDefinition | undefined {
  return findPlatform(slug)?.definition;
}

/**
 * What a platform offers to back up: the resources its connector implements, with their flags. A
 * platform without a connector offers none; one each connection describes (REST) offers those of
 * the connection's definition (none when it is missing or invalid).
 */
export function platformResources(slug: string, definition?: unknown): CatalogueResource[] {
  const platform = findPlatform(slug);
  if (!platform?.connector) return [];
  let connector: Connector;
  try {
    connector = platform.connector({ definition });
  } catch (error) {
    if (error instanceof ConfigError) return [];
    throw error;
  }
  return resourcesOf(platform.definition, connector);
}

export function resourcesOf(definition: PlatformDefinition, connector: Connector): CatalogueResource[] {
  const triggered = new Set(definition.webhooks?.events.flatMap((event) => event.resources) ?? []);
  return connector.resources.map((resource) => ({
    name: resource.name,
    description: resource.description,
    incremental: resource.incremental,
    cursor: resource.incremental ? (resource.cursor ?? null) : null,
    restorable: canRestore(connector, resource.name),
    webhookTriggered: triggered.has(resource.name),
    binaryContent: resource.binaryContent ?? false,
  }));
}

export interface ConnectorRegistryOptions {
  /** API root per slug, replacing the platform's public one (GitHub Enterprise, test fakes). */
  baseUrls?: Record<string, string>;
}

export interface ConnectorRegistry {
  /** Slugs with a connector. */
  readonly slugs: readonly string[];
  has(slug: string): boolean;
  /**
   * The connector for a platform; `rest` needs the connection's definition. `apiRoot` is the
   * connection's own API root (the definition's `apiBaseUrl` filled with its parameters: Shopify's
   * shop, Salesforce's instance); a deployment's `baseUrls` entry wins over it.
   */
  get(slug: string, definition?: unknown, apiRoot?: string | null): Connector;
}

/** The connectors of the catalogue, built with this deployment's API roots. */
export function createConnectorRegistry(options: ConnectorRegistryOptions = {}): ConnectorRegistry {
  const withConnector = CATALOGUE.filter((platform) => platform.connector);
  return {
    slugs: withConnector.map((platform) => platform.definition.slug),
    has: (slug) => Boolean(findPlatform(slug)?.connector),
    get(slug, definition, apiRoot) {
      const platform = findPlatform(slug);
      if (!platform?.connector) throw new ConfigError(`No connector for platform "${slug}" yet`);
      const connectorOptions: ConnectorOptions = { baseUrl: options.baseUrls?.[slug] ?? apiRoot ?? undefined, definition };
      return platform.connector(connectorOptions);
    },
  };
}

export type * from './platform.ts';
export { authTypesOf, bearer, envStem, isDatabaseIdentity, isDefinedApiIdentity, PLATFORM_CATEGORIES, AUTH_TYPES } from './platform.ts';
