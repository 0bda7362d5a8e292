import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signDownloadToken, verifyDownloadToken } from '../../src/backup/downloads.ts';
import { downloadKeys } from '../../src/backup/settings.ts';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('download tokens', () => {
  const key = randomBytes(32);
  const claims = { jobId: randomUUID(), accountId: randomUUID(), exp: Math.floor(Date.now() / 1000) + 3600 };

  it('verify what they signed, and only with the key that signed them', () => {
    const token = signDownloadToken(key, claims);
    expect(verifyDownloadToken([key], token)).toEqual(claims);
    expect(verifyDownloadToken([randomBytes(32)], token)).toBeNull();
  });

  it('refuse every other spelling of the signature, even those that decode to the same bytes', () => {
    const token = signDownloadToken(key, claims);
    const head = token.slice(0, -1);
    // The last character of a 32-byte base64url value carries 4 bits: four spellings decode alike.
    for (const c of BASE64URL) {
      if (`${head}${c}` === token) continue;
      expect(verifyDownloadToken([key], `${head}${c}`), c).toBeNull();
    }
  });

  it('refuse a changed payload, a missing part or an extra one', () => {
    const token = signDownloadToken(key, claims);
    const [payload, mac] = token.split('.');
    const other = signDownloadToken(key, { ...claims, accountId: randomUUID() }).split('.')[0];
    for (const forged of [`${other}.${mac}`, payload, `${payload}.`, `.${mac}`, `${token}.x`]) expect(verifyDownloadToken([key], forged), forged).toBeNull();
  });

  it('keep working while INTERNAL_TOKEN_SECRET rotates: signed under new,old or old, verified under either order or new', () => {
    const [oldSecret, newSecret] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const before = signDownloadToken(downloadKeys(oldSecret)[0], claims);
    const during = signDownloadToken(downloadKeys(`${newSecret},${oldSecret}`)[0], claims);
    for (const config of [`${oldSecret},${newSecret}`, `${newSecret},${oldSecret}`]) {
      expect(verifyDownloadToken(downloadKeys(config), before)).toEqual(claims);
      expect(verifyDownloadToken(downloadKeys(config), during)).toEqual(claims);
    }
    expect(verifyDownloadToken(downloadKeys(newSecret), during)).toEqual(claims);
    expect(verifyDownloadToken(downloadKeys(newSecret), before)).toBeNull();
  });
});
