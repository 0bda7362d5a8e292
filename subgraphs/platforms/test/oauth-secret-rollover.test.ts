// OAuth client secrets during a rollover (OAUTH_<SLUG>_CLIENT_SECRET=new,old): against the real
// authorization server, which refuses a wrong client secret with invalid_client.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { FixedAccess, newUser } from '../../jobs/test/support/subgraph-harness.ts';
import { signState, verifyState } from '../src/oauth/state.ts';
import { createPlatformsRuntime } from '../src/runtime.ts';
import { startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

describe('OAuth client secret rollover', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  const accountId = randomUUID();

  beforeAll(async () => {
    h = await startPlatformsHarness(({ oauth, api }) => ({
      oauthClients: {
        // The new secret is configured first but the platform does not take it yet: the old one still works.
        gitlab: { clientId: oauth.clients.post.clientId, clientSecret: 'registered-but-not-yet-active', previousClientSecrets: [oauth.clients.post.clientSecret] },
        // Neither secret is the platform's: refused as before.
        xero: { clientId: oauth.clients.basic.clientId, clientSecret: 'wrong-new', previousClientSecrets: ['wrong-old'] },
        // The platform may still sign redirects with the secret it had before the rollover.
        shopify: { ...api.shopifyApp, previousClientSecrets: ['shopify-secret-before-rollover'] },
      },
    }));
    alice = newUser();
    h.subgraph.access.grant(alice, accountId, 'admin');
    // More connections than the Free plan allows (plan-limits.test.ts covers the limit).
    await h.putOnPlan('business', accountId);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('exchanges the code with the older secret while the platform refuses the newer one as invalid_client', async () => {
    const { redirect } = await h.approve(alice, { accountId, platformSlug: 'gitlab' });
    expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
  });

  it('still fails when the platform takes none of the secrets', async () => {
    const { redirect } = await h.approve(alice, { accountId, platformSlug: 'xero' });
    const page = await h.callback(redirect);
    expect(page.outcome).not.toBe('AUTHORIZED');
    expect(page.html).not.toContain('wrong-new');
  });

  it('accepts a redirect signed with the current or the previous client secret, and no other', async () => {
    const shop = 'rollover-store.myshopify.com';
    const resign = (redirect: URL, secret: string) => {
      const url = new URL(redirect);
      const rest = [...url.searchParams].filter(([name]) => name !== 'hmac').sort(([a], [b]) => (a < b ? -1 : 1));
      url.searchParams.set('hmac', createHmac('sha256', secret).update(new URLSearchParams(rest).toString()).digest('hex'));
      return url;
    };
    const foreign = await h.approve(alice, { accountId, platformSlug: 'shopify', params: [{ name: 'shop', value: shop }] });
    expect((await h.callback(resign(foreign.redirect, 'some-other-app-secret'))).outcome).toBe('CALLBACK_SIGNATURE_INVALID');
    expect((await h.callback(resign(foreign.redirect, 'shopify-secret-before-rollover'))).outcome).toBe('AUTHORIZED');

    const current = await h.approve(alice, { accountId, platformSlug: 'shopify', params: [{ name: 'shop', value: shop }] });
    expect((await h.callback(current.redirect)).outcome).toBe('AUTHORIZED');
  });
});

describe('OAuth state across a rotation of INTERNAL_TOKEN_SECRET', () => {
  it('a state signed under the old secret is still accepted once the new one signs', () => {
    const [oldSecret, newSecret] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const runtimeWith = (internalTokenSecret: string) => createPlatformsRuntime({}, { internalTokenSecret, log: pino({ level: 'silent' }), access: new FixedAccess() });
    const state = { connectionId: randomUUID(), accountId: randomUUID(), nonce: 'n', expiresAt: Date.now() + 60_000 };
    const before = signState(runtimeWith(oldSecret).stateKey, state);
    expect(verifyState(runtimeWith(`${newSecret},${oldSecret}`).stateKeys, before)).toEqual(state);
    expect(verifyState(runtimeWith(newSecret).stateKeys, before)).toBeNull();
  });
});
