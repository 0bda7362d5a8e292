// The wire formats of the calls made to platforms, checked against a local HTTP server: each
// revocation style, and how token-endpoint answers are classified.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure, requestTokens, revokeTokens } from '../src/oauth/http.ts';
import { PLATFORM_DEFINITIONS, type OAuth2Spec, type Revocation } from '@listbackup/catalogue';
import { startPlatformApi, type PlatformApi } from './support/platform-api.ts';

const client = { clientId: 'client id/1', clientSecret: 's3cr3t:+&' };
const credentials = { kind: 'oauth2' as const, accessToken: 'access-token-value', refreshToken: 'refresh/token+value' };
const bearer = { header: 'Authorization', prefix: 'Bearer ' };
const gitlab = PLATFORM_DEFINITIONS.find((platform) => platform.slug === 'gitlab')!.oauth2!;
const xero = PLATFORM_DEFINITIONS.find((platform) => platform.slug === 'xero')!.oauth2!;

describe('calls to platforms', () => {
  let api: PlatformApi;
  beforeAll(async () => {
    api = await startPlatformApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const revoke = async (revocation: Revocation, path: string, credential: { header: string; prefix: string } = bearer) => {
    const result = await revokeTokens(revocation, `${api.url}${path}`, client, credentials, credential, 5_000);
    expect(result.ok).toBe(true);
    return api.requests.at(-1)!;
  };
  const basic = `Basic ${Buffer.from('client+id%2F1:s3cr3t%3A%2B%26').toString('base64')}`;

  it('revokes per RFC 7009 with each client authentication', async () => {
    const none = await revoke({ style: 'rfc7009', url: '', token: 'refresh_token', clientAuth: 'none' }, '/revoke/google');
    expect(none.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(none.body))).toEqual({ token: credentials.refreshToken, token_type_hint: 'refresh_token', client_id: client.clientId });
    expect(none.headers.authorization).toBeUndefined();

    const basicAuth = await revoke({ style: 'rfc7009', url: '', token: 'refresh_token', clientAuth: 'client_secret_basic' }, '/revoke/xero');
    expect(basicAuth.headers.authorization).toBe(basic);
    expect(basicAuth.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(basicAuth.body).get('client_secret')).toBeNull();

    const post = await revoke({ style: 'rfc7009', url: '', token: 'access_token', clientAuth: 'client_secret_post' }, '/revoke/box');
    expect(Object.fromEntries(new URLSearchParams(post.body))).toEqual({ token: credentials.accessToken, token_type_hint: 'access_token', client_id: client.clientId, client_secret: client.clientSecret });
  });

  it('revokes with the token itself (Dropbox, Slack, Zendesk, Shopify’s own header)', async () => {
    const dropbox = await revoke({ style: 'bearer', url: '', method: 'POST' }, '/revoke/dropbox');
    expect(dropbox).toMatchObject({ method: 'POST', headers: { authorization: 'Bearer access-token-value' } });
    const shopify = await revoke({ style: 'bearer', url: '', method: 'DELETE' }, '/revoke/shopify', { header: 'X-Shopify-Access-Token', prefix: '' });
    expect(shopify.method).toBe('DELETE');
    expect(shopify.headers['x-shopify-access-token']).toBe('access-token-value');
  });

  it('revokes HubSpot’s refresh token in the path and GitHub’s grant with Basic client authentication', async () => {
    const hubspot = await revoke({ style: 'token-in-path', url: '', token: 'refresh_token' }, '/revoke/hubspot/{token}');
    expect(hubspot).toMatchObject({ method: 'DELETE', path: '/revoke/hubspot/refresh%2Ftoken%2Bvalue' });
    const github = await revoke({ style: 'github-grant', url: '' }, '/revoke/github/applications/{client_id}/grant');
    expect(github).toMatchObject({ method: 'DELETE', path: '/revoke/github/applications/client%20id%2F1/grant' });
    expect(github.headers.authorization).toBe(basic);
    expect(JSON.parse(github.body)).toEqual({ access_token: 'access-token-value' });
  });

  it('revokes with a JSON body and Basic client authentication (Intuit, Notion)', async () => {
    const intuit = await revoke({ style: 'json', url: '', token: 'refresh_token' }, '/revoke/intuit');
    expect(intuit.headers['content-type']).toBe('application/json');
    expect(intuit.headers.authorization).toBe(basic);
    expect(JSON.parse(intuit.body)).toEqual({ token: credentials.refreshToken });
  });

  describe('token endpoint answers', () => {
    const ask = (spec: OAuth2Spec = gitlab) => requestTokens(spec, `${api.url}/scripted/token`, client, { grant_type: 'refresh_token', refresh_token: 'r' }, 2_000);

    it('reads a JSON answer, and a form-encoded one', async () => {
      api.scripted = { status: 200, type: 'application/json', body: JSON.stringify({ access_token: 'a', refresh_token: 'b', expires_in: 7200, scope: 'read_api', token_type: 'Bearer' }) };
      expect(await ask()).toMatchObject({ ok: true, tokens: { accessToken: 'a', refreshToken: 'b', expiresIn: 7200, scope: 'read_api' } });
      api.scripted = { status: 200, type: 'application/x-www-form-urlencoded', body: 'access_token=gho_x&scope=repo&token_type=bearer' };
      expect(await ask()).toMatchObject({ ok: true, tokens: { accessToken: 'gho_x', refreshToken: undefined, expiresIn: undefined } });
      const sent = api.requests.at(-1)!;
      expect(sent.headers.accept).toBe('application/json');
      expect(new URLSearchParams(sent.body).get('client_secret')).toBe(client.clientSecret);
    });

    it('sends client_secret_basic credentials in the header, not the body', async () => {
      api.scripted = { status: 200, type: 'application/json', body: '{"access_token":"x"}' };
      await ask(xero);
      const sent = api.requests.at(-1)!;
      expect(sent.headers.authorization).toBe(basic);
      expect(new URLSearchParams(sent.body).has('client_secret')).toBe(false);
    });

    it('classifies refusals, including an error inside HTTP 200 (GitHub) and ok:false (Slack)', async () => {
      api.scripted = { status: 200, type: 'application/json', body: '{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}' };
      expect(await ask()).toMatchObject({ ok: false, failure: { kind: 'refused', error: 'bad_verification_code' } });
      api.scripted = { status: 200, type: 'application/json', body: '{"ok":false,"error":"invalid_refresh_token"}' };
      expect(await ask()).toMatchObject({ ok: false, failure: { kind: 'refused', error: 'invalid_refresh_token' } });
      api.scripted = { status: 400, type: 'application/json', body: '{"error":"invalid_grant","error_description":"token abcdefghijklmnopqrstuvwxyz0123456789 is revoked"}' };
      const refused = await ask();
      expect(refused).toMatchObject({ ok: false, failure: { kind: 'refused', status: 400, error: 'invalid_grant' } });
      // A platform's description is shown, but long token-like runs are cut out of it.
      expect(describeFailure((refused as { failure: Parameters<typeof describeFailure>[0] }).failure)).toBe('the platform refused (error "invalid_grant", HTTP 400): token … is revoked');
    });

    it('classifies what may pass as unavailable: 5xx, 429, an answer without a token; no answer at all is TARGET_UNREACHABLE', async () => {
      for (const scripted of [
        { status: 503, type: 'text/html', body: '<h1>down</h1>' },
        { status: 429, type: 'application/json', body: '{}' },
        { status: 200, type: 'application/json', body: '{"token_type":"bearer"}' },
      ]) {
        api.scripted = scripted;
        expect(await ask()).toMatchObject({ ok: false, failure: { kind: 'unavailable' } });
      }
      const nowhere = await requestTokens(gitlab, 'http://127.0.0.1:1/token', client, { grant_type: 'refresh_token' }, 2_000);
      expect(nowhere).toEqual({ ok: false, failure: { kind: 'target', code: 'TARGET_UNREACHABLE' } });
    });
  });
});
