import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../platform/errors.js';

export interface RateLimitSettings {
  points: number;
  durationMs: number;
}

/**
 * Per-principal (or per-IP before authentication) limits shared across API replicas through
 * Redis. If Redis is down the in-memory insurance limiter takes over, so an outage never turns
 * into refused commands.
 */
export function rateLimit(redis: Redis, settings: RateLimitSettings, keyPrefix: string) {
  const duration = Math.max(1, Math.round(settings.durationMs / 1000));
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:rate-limit`,
    points: settings.points,
    duration,
    insuranceLimiter: new RateLimiterMemory({ points: settings.points, duration }),
  });
  return (request: Request, response: Response, next: NextFunction): void => {
    const key = request.user ? `${request.user.tenantId}:${request.user.id}` : `ip:${request.ip}`;
    limiter.consume(key).then(
      (result) => {
        setRateLimitHeaders(response, settings.points, result);
        next();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        setRateLimitHeaders(response, settings.points, rejection);
        response.set('Retry-After', String(Math.ceil(rejection.msBeforeNext / 1000)));
        next(new AppError('too_many_requests', 'request.rate-limited', 'Too many requests; retry after the time in Retry-After'));
      },
    );
  };
}

function setRateLimitHeaders(response: Response, limit: number, result: RateLimiterRes): void {
  response.set('RateLimit-Limit', String(limit));
  response.set('RateLimit-Remaining', String(result.remainingPoints));
  response.set('RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
}
