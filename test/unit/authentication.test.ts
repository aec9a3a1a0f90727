import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { createTokenVerifier, rememberVerified, type SignatureVerifier } from '../../src/api/authentication.js';
import { loadConfig } from '../../src/platform/config.js';
import { UnauthenticatedError } from '../../src/platform/errors.js';
import type { Principal } from '../../src/policies/principal.js';
import { rsaKeyPair, signRaw } from '../support/tokens.js';

const configSource = { JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'orders-api', JWT_SECRET: 's'.repeat(40) };
const config = loadConfig(configSource);
const verify = createTokenVerifier(config);
const claims = { sub: 'ada', tenant: 'acme', roles: ['customer', 'wizard'], iss: 'https://idp.test', aud: 'orders-api' };
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the token to be rejected');
}

describe('JWT authentication', () => {
  it('When a token is valid, then the principal carries sub, tenant and the known roles only', async () => {
    const principal = await verify(signRaw(config, { ...claims, exp: nowSeconds() + 60, name: 'Ada' }));
    expect(principal).to.deep.equal({ id: 'ada', tenantId: 'acme', roles: ['customer'], name: 'Ada', email: undefined });
  });

  for (const missing of ['exp', 'iss', 'aud', 'sub', 'tenant', 'roles'] as const) {
    it(`When the ${missing} claim is missing, then the token is refused`, async () => {
      const { [missing]: _dropped, ...rest } = { ...claims, exp: nowSeconds() + 60 };
      const error = await rejection(verify(signRaw(config, rest)));
      expect(error).to.be.instanceOf(UnauthenticatedError);
    });
  }

  it('When a token expired within the 30 s tolerance, then it is accepted; beyond it, refused', async () => {
    await verify(signRaw(config, { ...claims, exp: nowSeconds() - 20 }));
    expect(await rejection(verify(signRaw(config, { ...claims, exp: nowSeconds() - 40 })))).to.be.instanceOf(
      UnauthenticatedError,
    );
  });

  it('When iat lies in the future beyond the tolerance, then the token is refused; within it, accepted', async () => {
    await verify(signRaw(config, { ...claims, iat: nowSeconds() + 20, exp: nowSeconds() + 60 }));
    const future = await rejection(verify(signRaw(config, { ...claims, iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 })));
    expect(future).to.be.instanceOf(UnauthenticatedError);
    expect(future.message).to.include('issued in the future');
  });

  it('When a token lives longer than JWT_MAX_TOKEN_LIFETIME (exp - iat, or exp - now without iat), then it is refused', async () => {
    const shortLived = createTokenVerifier(loadConfig({ ...configSource, JWT_MAX_TOKEN_LIFETIME: '1h' }));
    await shortLived(signRaw(config, { ...claims, exp: nowSeconds() + 3000 }));
    const long = await rejection(shortLived(signRaw(config, { ...claims, exp: nowSeconds() + 24 * 3600 })));
    const noIat = await rejection(
      shortLived(signRaw(config, { ...claims, exp: nowSeconds() + 24 * 3600 }, { noTimestamp: true })),
    );
    expect(long.message).to.include('lives longer than 3600 s');
    expect(noIat.message).to.include('lives longer than 3600 s');
  });

  it('When the issuer or audience is another, then the token is refused', async () => {
    expect(await rejection(verify(signRaw(config, { ...claims, iss: 'https://evil', exp: nowSeconds() + 60 })))).to.be.instanceOf(
      UnauthenticatedError,
    );
    expect(await rejection(verify(signRaw(config, { ...claims, aud: 'other-api', exp: nowSeconds() + 60 })))).to.be.instanceOf(
      UnauthenticatedError,
    );
  });

  it('When a token is unsigned (alg none) or signed with an algorithm not allowed, then it is refused', async () => {
    const unsigned = jwt.sign({ ...claims, exp: nowSeconds() + 60 }, '', { algorithm: 'none' });
    const hs512 = jwt.sign({ ...claims, exp: nowSeconds() + 60 }, 's'.repeat(40), { algorithm: 'HS512' });
    expect(await rejection(verify(unsigned))).to.be.instanceOf(UnauthenticatedError);
    expect(await rejection(verify(hs512))).to.be.instanceOf(UnauthenticatedError);
  });

  it('When the service verifies with an RSA public key, then RS256 tokens pass and HS256 tokens made with that key fail', async () => {
    const keys = rsaKeyPair();
    const rsaVerify = createTokenVerifier(
      loadConfig({ JWT_ISSUER: claims.iss, JWT_AUDIENCE: claims.aud, JWT_PUBLIC_KEY: keys.publicKeyPem }),
    );
    const good = jwt.sign({ ...claims, exp: nowSeconds() + 60 }, keys.privateKey, { algorithm: 'RS256' });
    // The classic key-confusion attack: HMAC with the public key as the secret.
    const confused = jwt.sign({ ...claims, exp: nowSeconds() + 60 }, Buffer.from(keys.publicKeyPem), { algorithm: 'HS256' });

    expect((await rsaVerify(good)).id).to.equal('ada');
    expect(await rejection(rsaVerify(confused))).to.be.instanceOf(UnauthenticatedError);
  });

  describe('with a JWKS endpoint', () => {
    let server: Server;
    let jwksUri: string;
    const keys = rsaKeyPair();

    before(async () => {
      server = createServer((_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [{ ...keys.jwk, kid: 'k1', use: 'sig', alg: 'RS256' }] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('When a token names a key of the JWKS, then it verifies; an unknown kid is refused', async () => {
      const jwksVerify = createTokenVerifier(
        loadConfig({ JWT_ISSUER: claims.iss, JWT_AUDIENCE: claims.aud, JWT_JWKS_URI: jwksUri }),
      );
      const signed = (kid: string) =>
        jwt.sign({ ...claims, exp: nowSeconds() + 60 }, keys.privateKey, { algorithm: 'RS256', keyid: kid });

      expect((await jwksVerify(signed('k1'))).tenantId).to.equal('acme');
      expect(await rejection(jwksVerify(signed('k2')))).to.be.instanceOf(UnauthenticatedError);
    });
  });

  describe('remembering verified tokens', () => {
    const ada: Principal = { id: 'ada', tenantId: 'acme', roles: ['customer'] };
    let clock = 1_000_000;
    const now = () => clock;
    /** A signature check that counts its calls and accepts `ok-*` tokens valid for `lifetimeMs`. */
    function countingCheck(lifetimeMs: number) {
      const checked: string[] = [];
      const check: SignatureVerifier = (token) => {
        checked.push(token);
        if (!token.startsWith('ok')) return Promise.reject(new UnauthenticatedError('bad'));
        return Promise.resolve({ principal: { ...ada, id: token }, expiresAt: clock + lifetimeMs });
      };
      return { checked, check };
    }

    it('When the same token comes again, then its signature is not checked again and the same principal answers', async () => {
      const { checked, check } = countingCheck(3_600_000);
      const verify = rememberVerified(check, { size: 10, ttlMs: 60_000 }, now);

      const first = await verify('ok-1');
      const again = await verify('ok-1');
      await verify('ok-2');

      expect(again).to.equal(first);
      expect(checked).to.deep.equal(['ok-1', 'ok-2']);
    });

    it('When a remembered token reaches its exp, then it is checked again (and a refusal is never remembered)', async () => {
      const { checked, check } = countingCheck(5_000);
      const verify = rememberVerified(check, { size: 10, ttlMs: 60_000 }, now);

      await verify('ok-short');
      clock += 4_000;
      await verify('ok-short');
      clock += 2_000; // past exp, though well within the 60 s TTL
      await verify('ok-short');
      await rejection(verify('bad'));
      await rejection(verify('bad'));

      expect(checked).to.deep.equal(['ok-short', 'ok-short', 'bad', 'bad']);
    });

    it('When the TTL passes before exp, then the token is checked again; the size bounds how many are kept', async () => {
      const { checked, check } = countingCheck(3_600_000);
      const verify = rememberVerified(check, { size: 2, ttlMs: 60_000 }, now);

      await verify('ok-a');
      clock += 61_000;
      await verify('ok-a');
      await verify('ok-b');
      await verify('ok-c'); // evicts ok-a, the least recently used
      await verify('ok-a');

      expect(checked).to.deep.equal(['ok-a', 'ok-a', 'ok-b', 'ok-c', 'ok-a']);
    });

    it('When the service verifies a real token twice, then both answers are the same frozen principal', async () => {
      const token = signRaw(config, { ...claims, exp: nowSeconds() + 60 });
      const principal = await verify(token);
      expect(await verify(token)).to.equal(principal);
      expect(Object.isFrozen(principal) && Object.isFrozen(principal.roles)).to.equal(true);
    });
  });
});
