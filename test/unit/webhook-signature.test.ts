import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { newWebhookSecret, signWebhook, verifyWebhook } from '../../src/platform/webhook-signature.js';

describe('Webhook signatures', () => {
  const secret = 'whsec_test-secret';
  const timestamp = 1764151200;
  const body = '{"id":"0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f","type":"ProductCreated"}';

  it('When a body is signed, then the signature is v1= and the HMAC-SHA256 hex of "timestamp.body" (openssl test vector)', () => {
    // printf '%s' "1764151200.$body" | openssl dgst -sha256 -hmac 'whsec_test-secret'
    expect(signWebhook(secret, timestamp, body)).to.equal('v1=a6fb0dbe29fc625a9f34e5f9e9c0de0b3f44acf47e25292091ded732073b4881');
  });

  it('When a receiver follows docs/webhooks.md with plain node:crypto, then it computes the same signature', () => {
    const receiverSide = `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    expect(signWebhook(secret, timestamp, body)).to.equal(receiverSide);
  });

  it('When the body, timestamp or secret differ, or the timestamp is older than the tolerance, then verification fails', () => {
    const signature = signWebhook(secret, timestamp, body);
    const verify = (changes: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      verifyWebhook({ secret, timestamp: String(timestamp), body, signature, nowSeconds: timestamp + 10, ...changes });

    expect(verify({})).to.equal(true);
    expect(verify({ body: body.replace('ProductCreated', 'ProductUpdated') })).to.equal(false);
    expect(verify({ timestamp: String(timestamp + 1) })).to.equal(false);
    expect(verify({ secret: 'whsec_other' })).to.equal(false);
    expect(verify({ signature: signature.slice(0, -1) })).to.equal(false);
    expect(verify({ nowSeconds: timestamp + 301 })).to.equal(false);
    expect(verify({ timestamp: `${timestamp}.5` })).to.equal(false);
  });

  it('When secrets are created, then each is whsec_ and 32 random bytes in base64url, never repeated', () => {
    const secrets = Array.from({ length: 100 }, newWebhookSecret);
    for (const created of secrets) expect(created).to.match(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(new Set(secrets).size).to.equal(100);
  });
});
