import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../../src/platform/config.js';
import { signDevToken } from '../../src/platform/dev-tokens.js';

export interface Caller {
  sub: string;
  tenant: string;
  roles: string[];
  name?: string;
  email?: string;
}

/** A real signed JWT for `caller`, as the identity provider would issue it. */
export function tokenFor(config: Config, caller: Caller): string {
  return signDevToken(config, caller);
}

/** Signs arbitrary claims with the test secret (for tokens that are wrong on purpose). */
export function signRaw(config: Config, claims: object, options: jwt.SignOptions = {}): string {
  return jwt.sign(claims, config.jwt.secret!, { algorithm: 'HS256', ...options });
}

export function rsaKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
    jwk: publicKey.export({ format: 'jwk' }),
  };
}
