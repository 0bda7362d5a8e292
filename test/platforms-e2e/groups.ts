/**
 * Which platforms each file of this folder runs: one stack per file, a few platforms in each, so
 * vitest runs files side by side. Every platform `platforms` lists must be in one of them.
 */
export const GROUPS = {
  payments: ['stripe', 'github', 'google-drive', 'rest', 'postgresql'],
  commerce: ['shopify', 'hubspot', 'notion', 'salesforce'],
  messaging: ['slack', 'intercom', 'mailchimp', 'box', 'airtable'],
  work: ['dropbox', 'gitlab', 'zendesk', 'jira', 'quickbooks', 'xero'],
} as const;

export type Group = keyof typeof GROUPS;
