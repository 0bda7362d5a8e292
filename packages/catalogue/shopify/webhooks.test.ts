import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signShopify } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url: 'https://listbackup.example/webhooks/shopify', headers, body: Buffer.from(body, 'utf8') });
const product = JSON.stringify({ id: 788_032_119_674_292_900, title: 'Example T-Shirt', updated_at: '2026-03-01T12:00:00-05:00', variants: [{ id: 642_667_041_472_713_900, price: '19.99' }] });
const shop = 'example-shop.myshopify.com';

describe('Shopify webhooks', () => {
  it('accepts a delivery signed in X-Shopify-Hmac-Sha256 and names the shop by its domain, matched to the connection’s shop', () => {
    const headers = signShopify(product, 'shpss_secret', { topic: 'products/update', shop, webhookId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' });
    expect(verifyWebhook(definition, post(product, headers), ['shpss_secret'])).toEqual({
      kind: 'events',
      events: [{ deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', type: 'products/update', accountId: shop, resources: ['products'] }],
    });
    expect(definition.webhooks?.accountParam).toBe('shop');
    for (const [topic, resources] of [
      ['orders/paid', ['orders']],
      ['customers/create', ['customers']],
      ['inventory_levels/update', ['inventory_levels']],
      ['collections/delete', ['collections']],
      ['app/uninstalled', []],
    ] as const) {
      expect(verifyWebhook(definition, post(product, signShopify(product, 'shpss_secret', { topic, shop })), ['shpss_secret']), topic).toMatchObject({ events: [{ type: topic, resources }] });
    }
  });

  it('refuses an altered body, a wrong secret, a hex instead of base64 digest and a missing header', () => {
    const headers = signShopify(product, 'shpss_secret', { topic: 'products/update', shop });
    expect(verifyWebhook(definition, post(product.replace('19.99', '0.01'), headers), ['shpss_secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(product, signShopify(product, 'other', { topic: 'products/update', shop })), ['shpss_secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    const hex = { ...headers, 'x-shopify-hmac-sha256': Buffer.from(headers['x-shopify-hmac-sha256']!, 'base64').toString('hex') };
    expect(verifyWebhook(definition, post(product, hex), ['shpss_secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'x-shopify-hmac-sha256': _, ...unsigned } = headers;
    expect(verifyWebhook(definition, post(product, unsigned), ['shpss_secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts the app secret before a rotation as well as the new one', () => {
    expect(verifyWebhook(definition, post(product, signShopify(product, 'old', { topic: 'products/create', shop })), ['new', 'old']).kind).toBe('events');
  });
});
