import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeXero } from './fake.ts';

const FOLDERS: Record<string, string> = {
  Contacts: 'contacts',
  Invoices: 'invoices',
  CreditNotes: 'credit_notes',
  BankTransactions: 'bank_transactions',
  Payments: 'payments',
  ManualJournals: 'manual_journals',
  Accounts: 'accounts',
  Items: 'items',
};
const ID_FIELDS: Record<string, string> = { Contacts: 'ContactID', Invoices: 'InvoiceID', CreditNotes: 'CreditNoteID', BankTransactions: 'BankTransactionID', Payments: 'PaymentID', ManualJournals: 'ManualJournalID', Accounts: 'AccountID', Items: 'ItemID' };

export default {
  slug: 'xero',
  async start() {
    const definition = definitionOf('xero');
    const xero = await new FakeXero().start();
    // The fake's own GET /connections is the identity endpoint: it names the organisation.
    xero.account = new FakeAccount({ definition, accept: (token) => xero.tokens.add(token), refuse: (token) => xero.tokens.delete(token) });
    // More than a page of contacts.
    for (let i = 1; i <= 101; i++) xero.add('Contacts', { Name: `Customer ${i}`, ContactStatus: 'ACTIVE' });
    const contact = xero.records.get('Contacts')![0];
    const invoice = xero.add('Invoices', { Type: 'ACCREC', InvoiceNumber: 'INV-0001', Status: 'AUTHORISED', Contact: { ContactID: contact.ContactID }, Total: 120 });
    xero.add('CreditNotes', { Type: 'ACCRECCREDIT', CreditNoteNumber: 'CN-0001', Status: 'AUTHORISED', Total: 20 });
    xero.add('BankTransactions', { Type: 'SPEND', Reference: 'Coffee', Status: 'AUTHORISED', Total: 4.5 });
    xero.add('Payments', { Reference: 'Paid', Amount: 100, Invoice: { InvoiceID: invoice.InvoiceID } });
    xero.add('ManualJournals', { Narration: 'Year-end accrual', Status: 'POSTED' });
    xero.add('Accounts', { Code: '200', Name: 'Sales', Type: 'REVENUE', Status: 'ACTIVE' });
    xero.add('Items', { Code: 'WIDGET', Name: 'Widget' });
    return {
      apiRoot: apiRootAt(definition, xero.url),
      account: xero.account,
      origin: xero.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const [endpoint, folder] of Object.entries(FOLDERS)) for (const record of xero.records.get(endpoint)!) served.set(`${folder}/${record[ID_FIELDS[endpoint]]}.json`, json(record));
        return served;
      },
      incremental: {
        resource: 'contacts',
        read: () => xero.recordsServed(/\/Contacts$/, (body) => body?.Contacts),
        change() {
          xero.advance(120_000);
          xero.edit(contact, { Name: 'Renamed' });
          return `contacts/${contact.ContactID}.json`;
        },
      },
      close: () => xero.close(),
    };
  },
} satisfies E2EPlatform;
