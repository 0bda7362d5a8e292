import { generatedBytes } from '../testing/content.ts';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeSalesforce } from './fake.ts';

const ORG = '00D5g000004Xyz1EAC';
/** The instance the token answer names; the deployment's API root points the connector at the fake. */
const INSTANCE = 'https://acme.my.salesforce.com';

const STANDARD: Record<string, string> = { accounts: 'Account', contacts: 'Contact', leads: 'Lead', opportunities: 'Opportunity', cases: 'Case', tasks: 'Task' };

export default {
  slug: 'salesforce',
  async start() {
    const definition = definitionOf('salesforce');
    const salesforce = await new FakeSalesforce().start();
    salesforce.account = new FakeAccount({
      definition,
      identity: () => ({ sub: `${INSTANCE}/id/${ORG}/0055g00000AbCdEAAV`, user_id: '0055g00000AbCdEAAV', organization_id: ORG, preferred_username: 'admin@acme.example', email: 'admin@acme.example' }),
      accept: (token) => salesforce.tokens.add(token),
      refuse: (token) => salesforce.tokens.delete(token),
      tokenFields: () => ({ instance_url: INSTANCE, id: `https://login.salesforce.com/id/${ORG}/0055g00000AbCdEAAV`, signature: 'c2lnbmF0dXJl', issued_at: String(Date.now()) }),
      tokenPrefix: '00D5g000004Xyz1!',
    });
    // Query batches of 2: every query follows nextRecordsUrl.
    salesforce.batchLimit = 2;
    for (const [resource, name] of Object.entries(STANDARD)) {
      const object = salesforce.addObject(name, [{ name: 'Description', type: 'textarea' }]);
      // Made a second apart, as an org's are (not all at once).
      for (let i = 0; i < 3; i++) {
        salesforce.addRecord(object, { Name: `${name} ${i}`, Description: `A ${resource} record` });
        salesforce.advance(1_000);
      }
    }
    const invoices = salesforce.addObject('Invoice__c', [{ name: 'Amount__c', type: 'currency' }]);
    for (let i = 1; i <= 3; i++) salesforce.addRecord(invoices, { Name: `INV-${i}`, Amount__c: i * 100 });
    salesforce.addObject('Hidden__c', [], { queryable: false });
    const contract = salesforce.addFile('Contract', 'pdf', 70 * 1024 + 3);
    return {
      apiRoot: apiRootAt(definition, salesforce.url),
      account: salesforce.account,
      origin: salesforce.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const [resource, name] of Object.entries(STANDARD)) for (const record of salesforce.objects.get(name)!.records) served.set(`${resource}/${record.Id}.json`, json(record));
        for (const record of invoices.records) served.set(`custom_objects/Invoice__c/${record.Id}.json`, json(record));
        served.set('files/Contract.pdf', Buffer.concat([...generatedBytes(contract.Id as string, 0, contract.ContentSize as number)]));
        return served;
      },
      incremental: {
        resource: 'accounts',
        read: () => salesforce.recordsServed(/\/query/, (body) => body?.records?.filter((record: any) => record.attributes?.type === 'Account')),
        change() {
          salesforce.advance(120_000);
          const record = salesforce.objects.get('Account')!.records[0];
          salesforce.edit(record, { Description: 'Renamed' });
          return `accounts/${record.Id}.json`;
        },
      },
      close: () => salesforce.close(),
    };
  },
} satisfies E2EPlatform;
