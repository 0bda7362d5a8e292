/** The fake SaaS servers, for connector and end-to-end tests. */
import airtableE2E from '../airtable/e2e.ts';
import { FakeAirtable } from '../airtable/fake.ts';
import boxE2E from '../box/e2e.ts';
import { FakeBox } from '../box/fake.ts';
import dropboxE2E from '../dropbox/e2e.ts';
import githubE2E from '../github/e2e.ts';
import gitlabE2E from '../gitlab/e2e.ts';
import { FakeDropbox } from '../dropbox/fake.ts';
import { FakeGitHub } from '../github/fake.ts';
import { FakeGitLab } from '../gitlab/fake.ts';
import googleDriveE2E from '../google-drive/e2e.ts';
import { FakeDrive } from '../google-drive/fake.ts';
import { FakeHubSpot } from '../hubspot/fake.ts';
import { FakeIntercom } from '../intercom/fake.ts';
import { FakeJira } from '../jira/fake.ts';
import { FakeNotion } from '../notion/fake.ts';
import { FakeShopify } from '../shopify/fake.ts';
import { FakeSlack } from '../slack/fake.ts';
import { FakeZendesk } from '../zendesk/fake.ts';
import hubspotE2E from '../hubspot/e2e.ts';
import intercomE2E from '../intercom/e2e.ts';
import jiraE2E from '../jira/e2e.ts';
import mailchimpE2E from '../mailchimp/e2e.ts';
import { FakeMailchimp } from '../mailchimp/fake.ts';
import notionE2E from '../notion/e2e.ts';
import postgresqlE2E from '../postgresql/e2e.ts';
import quickbooksE2E from '../quickbooks/e2e.ts';
import restE2E from '../rest/e2e.ts';
import salesforceE2E from '../salesforce/e2e.ts';
import { FakeSalesforce } from '../salesforce/fake.ts';
import shopifyE2E from '../shopify/e2e.ts';
import slackE2E from '../slack/e2e.ts';
import { FakeRest } from '../rest/fake.ts';
import stripeE2E from '../stripe/e2e.ts';
import { FakeStripe } from '../stripe/fake.ts';
import xeroE2E from '../xero/e2e.ts';
import { FakeXero } from '../xero/fake.ts';
import zendeskE2E from '../zendesk/e2e.ts';
import { apiRootAt, definitionOf, type E2EPlatform } from './e2e.ts';

export { FakeServer, type Failure, type RecordedRequest } from './fake-server.ts';
export { generatedBytes, generatedSha256 } from './content.ts';
export { FakeAirtable, FakeBox, FakeDrive, FakeDropbox, FakeGitHub, FakeGitLab, FakeHubSpot, FakeIntercom, FakeJira, FakeMailchimp, FakeNotion, FakeRest, FakeSalesforce, FakeShopify, FakeSlack, FakeStripe, FakeXero, FakeZendesk };

/**
 * Every platform's end-to-end fixture (its folder's `e2e.ts`): the gateway test runs each, and
 * fails for a platform `platforms` lists that is missing here.
 */
export const E2E_PLATFORMS: readonly E2EPlatform[] = [stripeE2E, githubE2E, googleDriveE2E, restE2E, shopifyE2E, hubspotE2E, notionE2E, slackE2E, intercomE2E, dropboxE2E, gitlabE2E, zendeskE2E, jiraE2E, postgresqlE2E, boxE2E, airtableE2E, mailchimpE2E, salesforceE2E, quickbooksE2E, xeroE2E];

export function e2ePlatform(slug: string): E2EPlatform {
  const platform = E2E_PLATFORMS.find((candidate) => candidate.slug === slug);
  if (!platform) throw new Error(`no end-to-end fixture for ${slug}: add ${slug}/e2e.ts to E2E_PLATFORMS`);
  return platform;
}

export interface Fakes {
  github: FakeGitHub;
  stripe: FakeStripe;
  drive: FakeDrive;
  rest: FakeRest;
  shopify: FakeShopify;
  hubspot: FakeHubSpot;
  notion: FakeNotion;
  slack: FakeSlack;
  intercom: FakeIntercom;
  dropbox: FakeDropbox;
  gitlab: FakeGitLab;
  zendesk: FakeZendesk;
  jira: FakeJira;
  salesforce: FakeSalesforce;
  box: FakeBox;
  airtable: FakeAirtable;
  mailchimp: FakeMailchimp;
  xero: FakeXero;
  /** What `createConnectorRegistry({ baseUrls })` needs to talk to these fakes: each definition's API root at its fake. */
  baseUrls: Record<string, string> & { github: string; stripe: string; 'google-drive': string };
  close(): Promise<void>;
}

/** Starts the fake of every connector that speaks to a platform, each on its own free port. */
export async function startFakes(): Promise<Fakes> {
  const [github, stripe, drive, rest, shopify, hubspot, notion, slack, intercom, dropbox, gitlab, zendesk, jira, salesforce, box, airtable, mailchimp, xero] = await Promise.all([
    new FakeGitHub().start(),
    new FakeStripe().start(),
    new FakeDrive().start(),
    new FakeRest().start(),
    new FakeShopify().start(),
    new FakeHubSpot().start(),
    new FakeNotion().start(),
    new FakeSlack().start(),
    new FakeIntercom().start(),
    new FakeDropbox().start(),
    new FakeGitLab().start(),
    new FakeZendesk().start(),
    new FakeJira().start(),
    new FakeSalesforce().start(),
    new FakeBox().start(),
    new FakeAirtable().start(),
    new FakeMailchimp().start(),
    new FakeXero().start(),
  ]);
  const all = [github, stripe, drive, rest, shopify, hubspot, notion, slack, intercom, dropbox, gitlab, zendesk, jira, salesforce, box, airtable, mailchimp, xero];
  const root = (slug: string, fake: { url: string }, params?: Record<string, string>) => apiRootAt(definitionOf(slug), fake.url, params);
  return {
    github,
    stripe,
    drive,
    rest,
    shopify,
    hubspot,
    notion,
    slack,
    intercom,
    dropbox,
    gitlab,
    zendesk,
    jira,
    salesforce,
    box,
    airtable,
    mailchimp,
    xero,
    baseUrls: {
      github: root('github', github),
      stripe: root('stripe', stripe),
      'google-drive': root('google-drive', drive),
      shopify: root('shopify', shopify),
      hubspot: root('hubspot', hubspot),
      notion: root('notion', notion),
      slack: root('slack', slack),
      intercom: root('intercom', intercom),
      dropbox: root('dropbox', dropbox),
      gitlab: root('gitlab', gitlab),
      zendesk: root('zendesk', zendesk),
      jira: `${jira.url}${jira.apiPrefix}`,
      salesforce: root('salesforce', salesforce),
      box: root('box', box),
      airtable: root('airtable', airtable),
      mailchimp: root('mailchimp', mailchimp),
      xero: root('xero', xero),
    },
    close: async () => {
      await Promise.all(all.map((fake) => fake.close()));
    },
  };
}
