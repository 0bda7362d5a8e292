import type { PlatformCategory } from './entities/platform.ts';

export interface PlatformDefinition {
  /** Stable key, used in URLs and by connectors; never changes once published. */
  slug: string;
  name: string;
  category: PlatformCategory;
}

/**
 * The platforms ListBackup knows. The code is the source of truth: `syncPlatformCatalogue`
 * upserts these rows by slug at every start, so adding a platform is adding a line here.
 */
export const PLATFORM_REGISTRY: readonly PlatformDefinition[] = [
  { slug: 'stripe', name: 'Stripe', category: 'PAYMENTS' },
  { slug: 'paypal', name: 'PayPal', category: 'PAYMENTS' },
  { slug: 'shopify', name: 'Shopify', category: 'COMMERCE' },
  { slug: 'woocommerce', name: 'WooCommerce', category: 'COMMERCE' },
  { slug: 'hubspot', name: 'HubSpot', category: 'CRM' },
  { slug: 'salesforce', name: 'Salesforce', category: 'CRM' },
  { slug: 'quickbooks', name: 'QuickBooks Online', category: 'ACCOUNTING' },
  { slug: 'xero', name: 'Xero', category: 'ACCOUNTING' },
  { slug: 'github', name: 'GitHub', category: 'DEVELOPER' },
  { slug: 'gitlab', name: 'GitLab', category: 'DEVELOPER' },
  { slug: 'google-drive', name: 'Google Drive', category: 'FILES' },
  { slug: 'dropbox', name: 'Dropbox', category: 'FILES' },
  { slug: 'slack', name: 'Slack', category: 'COMMUNICATION' },
  { slug: 'notion', name: 'Notion', category: 'PRODUCTIVITY' },
  { slug: 'airtable', name: 'Airtable', category: 'PRODUCTIVITY' },
  { slug: 'zendesk', name: 'Zendesk', category: 'SUPPORT' },
  { slug: 'intercom', name: 'Intercom', category: 'SUPPORT' },
  { slug: 'mailchimp', name: 'Mailchimp', category: 'MARKETING' },
  { slug: 'postgresql', name: 'PostgreSQL', category: 'DATABASE' },
  { slug: 'mysql', name: 'MySQL', category: 'DATABASE' },
];
