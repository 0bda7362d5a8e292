/**
 * The connector registry: which connector serves a platform slug. SaaS base URLs can be pointed
 * elsewhere per deployment (GitHub Enterprise, a test fake); the REST connector is built from the
 * connection's own definition.
 */
import { createGitHubConnector } from './github.ts';
import { createGoogleDriveConnector } from './google-drive.ts';
import { createPostgresConnector } from './postgresql.ts';
import { createRestConnector } from './rest.ts';
import { ConfigError, type Connector, type ResourceDefinition } from './sdk.ts';
import { createStripeConnector } from './stripe.ts';

export interface ConnectorRegistryOptions {
  /** Base URL per slug, replacing the platform's public API (`github`, `stripe`, `google-drive`). */
  baseUrls?: Partial<Record<'github' | 'stripe' | 'google-drive', string>>;
}

export interface ConnectorRegistry {
  /** Slugs with a connector. */
  readonly slugs: readonly string[];
  has(slug: string): boolean;
  /** The connector for a platform; `rest` needs the connection's definition. */
  get(slug: string, definition?: unknown): Connector;
  /** The resources a platform offers (for `rest`, those of the given definition). */
  resources(slug: string, definition?: unknown): readonly ResourceDefinition[];
}

export const REST_SLUG = 'rest';

export function createConnectorRegistry(options: ConnectorRegistryOptions = {}): ConnectorRegistry {
  const fixed = new Map<string, Connector>(
    [
      createGitHubConnector({ baseUrl: options.baseUrls?.github }),
      createStripeConnector({ baseUrl: options.baseUrls?.stripe }),
      createGoogleDriveConnector({ baseUrl: options.baseUrls?.['google-drive'] }),
      createPostgresConnector(),
    ].map((c) => [c.slug, c as Connector]),
  );
  const get = (slug: string, definition?: unknown): Connector => {
    if (slug === REST_SLUG) return createRestConnector(definition);
    const connector = fixed.get(slug);
    if (!connector) throw new ConfigError(`No connector for platform "${slug}" yet`);
    return connector;
  };
  return {
    slugs: [...fixed.keys(), REST_SLUG],
    has: (slug) => slug === REST_SLUG || fixed.has(slug),
    get,
    resources: (slug, definition) => get(slug, definition).resources,
  };
}

export { createGitHubConnector, createGoogleDriveConnector, createPostgresConnector, createRestConnector, createStripeConnector };
