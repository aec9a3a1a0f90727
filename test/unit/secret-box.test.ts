import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { loadConfig } from '../../src/platform/config.js';
import { SecretBox } from '../../src/platform/secret-box.js';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('Secrets at rest (SecretBox, AES-256-GCM)', () => {
  it('When a value is sealed, then it opens with its context only, and the stored form shows neither the value nor the key', () => {
    const box = new SecretBox([key('k1')]);
    const sealed = box.seal('whsec_abc', 'webhook-secret:1');

    expect(sealed)
      .to.match(/^sealed:v1:k1:/)
      .and.not.include('whsec_abc');
    expect(box.open(sealed, 'webhook-secret:1')).to.equal('whsec_abc');
    expect(() => box.open(sealed, 'webhook-secret:2'), 'copied to another row').to.throw();
    expect(box.seal('whsec_abc', 'webhook-secret:1'), 'a fresh nonce each time').not.to.equal(sealed);
  });

  it('When a sealed value is tampered with, or sealed with an unknown key, then it does not open', () => {
    const box = new SecretBox([key('k1')]);
    const parts = box.seal('whsec_abc', 'c').split(':');
    parts[4] = Buffer.from('whsec_xyz').toString('base64url');

    expect(() => box.open(parts.join(':'), 'c')).to.throw();
    expect(() => new SecretBox([key('k2')]).open(box.seal('x', 'c'), 'c')).to.throw(/key id k1/);
    expect(() => box.open('whsec_plain-text', 'c')).to.throw(/not a value sealed/);
  });

  it('When a new key is put first (rotation), then new values use it and values sealed with the old key still open', () => {
    const [oldKey, newKey] = [key('old'), key('new')];
    const before = new SecretBox([oldKey]).seal('whsec_1', 'c');
    const rotated = new SecretBox([newKey, oldKey]);

    expect(rotated.open(before, 'c')).to.equal('whsec_1');
    expect(rotated.isCurrent(before)).to.equal(false);
    expect(rotated.isCurrent(rotated.seal('whsec_2', 'c'))).to.equal(true);
  });

  it('When SECRET_ENCRYPTION_KEYS is malformed, or missing in production, then the config names it', () => {
    expect(() => loadConfig({ SECRET_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' })).to.throw(/SECRET_ENCRYPTION_KEYS.*32 bytes/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_JWKS_URI: 'https://idp.example/jwks' })).to.throw(
      /SECRET_ENCRYPTION_KEYS: required in production/,
    );
    const config = loadConfig({
      SECRET_ENCRYPTION_KEYS: `a:${randomBytes(32).toString('base64')},b:${randomBytes(32).toString('base64')}`,
    });
    expect(config.secretKeys.map((entry) => entry.id)).to.deep.equal(['a', 'b']);
  });
});
