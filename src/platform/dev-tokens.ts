import jwt from 'jsonwebtoken';
import type { Config } from './config.js';

export interface DevTokenClaims {
  sub: string;
  tenant: string;
  roles: string[];
  name?: string | undefined;
  email?: string | undefined;
}

/**
 * Signs a token the way an identity provider would, with the local HS256 secret. Refuses to run
 * when tokens are verified by a public key or JWKS (there is no private key here to sign with).
 */
export function signDevToken(config: Config, claims: DevTokenClaims, ttlSeconds = 12 * 3600): string {
  if (!config.jwt.secret)
    throw new Error('dev tokens need the HS256 secret (JWT_SECRET); this config verifies with a public key');
  const { sub, ...rest } = claims;
  return jwt.sign(rest, config.jwt.secret, {
    algorithm: 'HS256',
    subject: sub,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    expiresIn: ttlSeconds,
  });
}
