import { authorize } from '@listbackup/lib/access';
import type { BillingContext } from '../context.ts';
import { PaymentsDisabledError } from './payments.ts';

/** A SetupIntent for the account's Stripe customer; the browser confirms it with Stripe.js. */
export async function setupPaymentMethod(ctx: BillingContext, accountId: string): Promise<{ clientSecret: string; setupIntentId: string }> {
  await authorize(ctx, 'billing:manage', accountId);
  if (!ctx.payments) throw new PaymentsDisabledError();
  const customer = await ctx.payments.customerFor(ctx.em, accountId);
  const intent = await ctx.payments.setupIntent(customer, accountId, ctx.requestId);
  return { clientSecret: intent.clientSecret, setupIntentId: intent.id };
}
