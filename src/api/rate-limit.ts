import type { NextFunction, Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../platform/errors.js';
import type { RedisClient } from '../platform/redis.js';

export interface RateLimitSettings {
  points: number;
  durationMs: number;
}

/** Who a request counts against: its principal once authenticated, its client address before. */
export type RateLimitKey = (request: Request) => string;

export const byPrincipal: RateLimitKey = (request) => `principal:${request.user!.tenantId}:${request.user!.id}`;
/**
 * The client address as Express derives it under `trust proxy` (TRUST_PROXY_HOPS): the address
 * the outermost trusted proxy saw, so one client cannot pose as many by forging X-Forwarded-For.
 */
export const byClientAddress: RateLimitKey = (request) => `ip:${request.ip ?? 'unknown'}`;

/**
 * A limit shared across API replicas through Redis, answered with the same RateLimit-* headers
 * and 429 problem wherever it applies: per client address before authentication (so floods of
 * anonymous or badly signed requests are refused before a signature is checked), per principal
 * after it. If Redis is down the in-memory insurance limiter takes over, so an outage never turns
 * into refused commands.
 */
export function rateLimit(redis: RedisClient, settings: RateLimitSettings, keyPrefix: string, keyOf: RateLimitKey) {
  const duration = Math.max(1, Math.round(settings.durationMs / 1000));
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:rate-limit`,
    points: settings.points,
    duration,
    insuranceLimiter: new RateLimiterMemory({ points: settings.points, duration }),
  });
  return (request: Request, response: Response, next: NextFunction): void => {
    const key = keyOf(request);
    limiter.consume(key).then(
      (result) => {
        setRateLimitHeaders(response, settings.points, result);
        next();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        setRateLimitHeaders(response, settings.points, rejection);
        response.set('Retry-After', String(Math.ceil(rejection.msBeforeNext / 1000)));
        next(new RateLimitedError());
      },
    );
  };
}

function setRateLimitHeaders(response: Response, limit: number, result: RateLimiterRes): void {
  response.set('RateLimit-Limit', String(limit));
  response.set('RateLimit-Remaining', String(result.remainingPoints));
  response.set('RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
}
