import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import { LRUCache } from 'lru-cache';
import type { Config } from '../platform/config.js';
import { UnauthenticatedError } from '../platform/errors.js';
import { firstUnstorableText } from '../platform/storable-text.js';
import { ROLES, type Principal, type Role } from '../policies/principal.js';
import { UnstorableTextError } from './input-hygiene.js';

export type TokenVerifier = (token: string) => Promise<Principal>;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: Principal;
    }
  }
}

/**
 * Verifies bearer tokens with the one configured key source (JWKS, PEM public key, or an HS256
 * secret outside production), pinned algorithms, and `exp`, `iss`, `aud` all required; `iat`
 * may not lie in the future and `exp` may not lie further than JWT_MAX_TOKEN_LIFETIME past it.
 *
 * A client sends the same token with every request until it expires, and the signature check
 * (RS256) was the API's largest single cost after socket writes: a token that verified is
 * remembered, by its whole text, until its `exp` and at most JWT_VERIFIED_CACHE_TTL. Nothing
 * else can change a token's verdict meanwhile except a key leaving the JWKS, which jwks-rsa
 * itself only notices when its own cache (10 min) expires; the TTL keeps that window short.
 */
export function createTokenVerifier(
  config: Pick<
    Config,
    | 'jwt'
    | 'JWT_ISSUER'
    | 'JWT_AUDIENCE'
    | 'JWT_CLOCK_TOLERANCE_SECONDS'
    | 'JWT_MAX_TOKEN_LIFETIME'
    | 'JWT_VERIFIED_CACHE_SIZE'
    | 'JWT_VERIFIED_CACHE_TTL'
  >,
): TokenVerifier {
  const verifySignature = signatureVerifier(config);
  return rememberVerified(verifySignature, { size: config.JWT_VERIFIED_CACHE_SIZE, ttlMs: config.JWT_VERIFIED_CACHE_TTL });
}

export type SignatureVerifier = (token: string) => Promise<{ principal: Principal; expiresAt: number }>;

/** Remembers what `verifySignature` accepted, by the whole token, until `expiresAt` and at most `ttlMs`. */
export function rememberVerified(
  verifySignature: SignatureVerifier,
  limits: { size: number; ttlMs: number },
  now: () => number = Date.now,
): TokenVerifier {
  if (limits.size === 0 || limits.ttlMs === 0) return async (token) => (await verifySignature(token)).principal;
  const verified = new LRUCache<string, Principal>({ max: limits.size, ttl: limits.ttlMs, ttlResolution: 0, perf: { now } });
  return async (token) => {
    const remembered = verified.get(token);
    if (remembered) return remembered;
    const { principal, expiresAt } = await verifySignature(token);
    const ttl = Math.min(limits.ttlMs, expiresAt - now());
    if (ttl > 0) verified.set(token, principal, { ttl });
    return principal;
  };
}

function signatureVerifier(
  config: Pick<Config, 'jwt' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_CLOCK_TOLERANCE_SECONDS' | 'JWT_MAX_TOKEN_LIFETIME'>,
): SignatureVerifier {
  const key = signingKeySource(config.jwt);
  const options: jwt.VerifyOptions = {
    algorithms: config.jwt.algorithms as jwt.Algorithm[],
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    clockTolerance: config.JWT_CLOCK_TOLERANCE_SECONDS,
  };
  return (token) =>
    new Promise((resolve, reject) => {
      jwt.verify(token, key, options, (error, claims) => {
        if (error) return reject(new UnauthenticatedError(`The bearer token is not valid: ${reasonOf(error)}`));
        try {
          const payload = claims as JwtPayload;
          assertTimely(payload, config.JWT_CLOCK_TOLERANCE_SECONDS, config.JWT_MAX_TOKEN_LIFETIME / 1000);
          resolve({ principal: principalFrom(payload), expiresAt: payload.exp! * 1000 });
        } catch (cause) {
          reject(cause);
        }
      });
    });
}

/**
 * Keys are parsed once into KeyObjects: given a PEM or a secret string, jsonwebtoken parses it
 * again on every verification (createPublicKey showed in the API's CPU profile).
 */
function signingKeySource(settings: Config['jwt']): KeyObject | jwt.GetPublicKeyOrSecret {
  if (settings.jwksUri) {
    const client = jwksRsa({ jwksUri: settings.jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 });
    const parsed = new Map<string, KeyObject>();
    return (header, callback) => {
      client.getSigningKey(header.kid).then(
        (key) => callback(null, parsedOnce(parsed, key.getPublicKey())),
        (error: Error) => callback(error),
      );
    };
  }
  if (!settings.publicKey) return createSecretKey(Buffer.from(settings.secret!));
  try {
    return createPublicKey(settings.publicKey);
  } catch (error) {
    throw new Error(`JWT_PUBLIC_KEY is not a PEM public key: ${(error as Error).message}`, { cause: error });
  }
}

/** A JWKS serves a handful of keys at a time; rotation replaces them, so the cache stays small. */
function parsedOnce(parsed: Map<string, KeyObject>, pem: string): KeyObject {
  let key = parsed.get(pem);
  if (!key) {
    if (parsed.size >= 16) parsed.clear();
    key = createPublicKey(pem);
    parsed.set(pem, key);
  }
  return key;
}

/**
 * Why a token failed, in words that tell the caller what to fix without telling an attacker what
 * the service expects: jsonwebtoken's messages name the expected issuer and audience.
 */
function reasonOf(error: jwt.VerifyErrors): string {
  if (error instanceof jwt.TokenExpiredError) return 'it has expired';
  if (error instanceof jwt.NotBeforeError) return 'it is not valid yet (nbf)';
  if (error.message.startsWith('jwt issuer invalid')) return 'its issuer is not accepted';
  if (error.message.startsWith('jwt audience invalid')) return 'its audience is not accepted';
  if (/signature|algorithm|secret or public key/.test(error.message)) return 'its signature or algorithm is not accepted';
  return 'it is malformed';
}

/** jsonwebtoken checks neither an `iat` in the future nor how long a token lives. */
function assertTimely(claims: JwtPayload, toleranceSeconds: number, maxLifetimeSeconds: number): void {
  const now = Date.now() / 1000;
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now + toleranceSeconds)) {
    throw new UnauthenticatedError('The bearer token is not valid: it was issued in the future (iat)');
  }
  const lifetime = (claims.exp ?? 0) - (claims.iat ?? now);
  if (lifetime > maxLifetimeSeconds + toleranceSeconds) {
    throw new UnauthenticatedError(`The bearer token is not valid: it lives longer than ${maxLifetimeSeconds} s (exp - iat)`);
  }
}

/** The claims this service requires beyond what jsonwebtoken checks when present. */
function principalFrom(claims: JwtPayload): Principal {
  const unstorable = firstUnstorableText(claims);
  if (unstorable) throw new UnstorableTextError(`Token claim ${unstorable}`);
  const missing = ['sub', 'tenant', 'roles', 'exp', 'iss', 'aud'].filter((claim) => claims[claim] === undefined);
  if (missing.length) throw new UnauthenticatedError(`The bearer token lacks required claims: ${missing.join(', ')}`);
  const { sub, tenant, roles } = claims as JwtPayload & { tenant: unknown; roles: unknown };
  if (typeof sub !== 'string' || !sub || typeof tenant !== 'string' || !tenant) {
    throw new UnauthenticatedError('The bearer token has an empty sub or tenant');
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw new UnauthenticatedError('The bearer token claim roles must be an array of strings');
  }
  // Frozen: a remembered principal is shared by every request that carries the same token.
  return Object.freeze({
    id: sub,
    tenantId: tenant,
    roles: Object.freeze(roles.filter((role): role is Role => (ROLES as readonly string[]).includes(role))) as Role[],
    name: typeof claims.name === 'string' ? claims.name : undefined,
    email: typeof claims.email === 'string' ? claims.email : undefined,
  });
}

/** Express middleware: every /v1 request is authenticated before its body is even parsed. */
export function authenticate(verify: TokenVerifier) {
  return (request: Request, _response: Response, next: NextFunction): void => {
    const header = request.headers.authorization ?? '';
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) {
      return next(new UnauthenticatedError('A bearer token is required (Authorization: Bearer <jwt>)'));
    }
    verify(token).then(
      (principal) => {
        request.user = principal;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/** tsoa's hook for `@Security('jwt')`: the principal was already verified by `authenticate`. */
export function expressAuthentication(request: Request, securityName: string): Promise<Principal> {
  if (securityName === 'jwt' && request.user) return Promise.resolve(request.user);
  return Promise.reject(new UnauthenticatedError('A bearer token is required'));
}
