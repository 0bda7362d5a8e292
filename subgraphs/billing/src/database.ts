import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { PlanSchema } from './entities/plan.ts';
import { PlanSubscriptionSchema } from './entities/plan-subscription.ts';
import { migrations } from './migrations/index.ts';
import { StorageChangeSchema } from './entities/storage-change.ts';
import { MeteredSnapshotSchema } from './entities/metered-snapshot.ts';
import { MeteredAccountSchema } from './entities/metered-account.ts';
import { PlanChangeSchema } from './entities/plan-change.ts';
import { InvoiceNumberSchema, InvoiceSchema } from './entities/invoice.ts';
import { BillingCustomerSchema } from './entities/billing-customer.ts';
import { InvoiceCollectionSchema, StripeEventSchema } from './entities/invoice-collection.ts';
import { PlanUsageItemSchema } from './entities/plan-usage-item.ts';
import { StorageQuotaSchema } from './entities/storage-quota.ts';

export const database = { schema: 'billing', entities: [PlanSchema, PlanSubscriptionSchema, StorageChangeSchema, MeteredSnapshotSchema, MeteredAccountSchema, PlanChangeSchema, PlanUsageItemSchema, StorageQuotaSchema, InvoiceSchema, InvoiceNumberSchema, BillingCustomerSchema, InvoiceCollectionSchema, StripeEventSchema, OutboxEvent, ProcessedEvent], migrations };
