import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeQuickBooks } from './fake.ts';

const ENTITIES: Record<string, string> = { customers: 'Customer', vendors: 'Vendor', employees: 'Employee', items: 'Item', accounts: 'Account', invoices: 'Invoice', bills: 'Bill', payments: 'Payment', journal_entries: 'JournalEntry' };

export default {
  slug: 'quickbooks',
  async start() {
    const definition = definitionOf('quickbooks');
    const quickbooks = await new FakeQuickBooks().start();
    const realmId = quickbooks.realmId;
    quickbooks.account = new FakeAccount({
      definition,
      params: { realmId },
      identity: () => ({ CompanyInfo: { Id: realmId, CompanyName: 'Acme Books', Country: 'US' }, time: new Date().toISOString() }),
      accept: (token) => quickbooks.tokens.add(token),
      refuse: (token) => quickbooks.tokens.delete(token),
      callbackParams: () => ({ realmId }),
    });
    for (const [resource, entity] of Object.entries(ENTITIES)) {
      // Made a second apart, as a company's are (not all at once).
      for (let i = 0; i < (resource === 'customers' ? 4 : 2); i++) {
        quickbooks.add(entity, { Name: `${entity} ${i}`, ...(resource === 'customers' ? { DisplayName: `Customer ${i}`, Active: i === 0 } : {}) });
        quickbooks.advance(1_000);
      }
    }
    return {
      apiRoot: apiRootAt(definition, quickbooks.url, { realmId }),
      account: quickbooks.account,
      origin: quickbooks.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const [resource, entity] of Object.entries(ENTITIES)) for (const record of quickbooks.entities.get(entity)!) served.set(`${resource}/${record.Id}.json`, json(record));
        return served;
      },
      incremental: {
        resource: 'customers',
        read: () => quickbooks.recordsServed(/\/query$/, (body) => body?.QueryResponse?.Customer),
        change() {
          quickbooks.advance(120_000);
          const customer = quickbooks.entities.get('Customer')![0];
          quickbooks.edit(customer, { DisplayName: 'Renamed' });
          return `customers/${customer.Id}.json`;
        },
      },
      close: () => quickbooks.close(),
    };
  },
} satisfies E2EPlatform;
