import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../platform/errors.js';
import type { RedisClient } from '../platform/redis.js';
import { unlessRecorded } from '../platform/telemetry/unrecorded.js';

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

/** One counted key's answer: within its limit or refused, and when its window ends. */
interface Verdict {
  limiter: RateLimiterRedis;
  points: number;
  refused: boolean;
  remainingPoints: number;
  msBeforeNext: number;
}

/**
 * The API's request limits (rate-limiter-flexible's fixed windows in Redis), shared across
 * replicas and answered with the same RateLimit-* headers and 429 problem wherever they apply:
 * per client address (so floods of anonymous or badly signed requests are refused before a
 * signature is checked) and per principal.
 *
 * On /v1 the address and the principal are counted together after the signature check
 * (`afterAuthentication`): both scripts are sent in the same event-loop turn, and the Redis client
 * auto-pipelines (src/platform/redis.ts), so they share one write and one round trip. A request
 * whose authentication fails is counted against its address alone (`afterRefusedAuthentication`).
 * An address found over its limit is then refused from memory (the limiter's
 * `inMemoryBlockOnConsumed`) until its window ends, with no signature check and no round trip
 * (`beforeAuthentication`); a replica that has not yet seen the address over its limit checks one
 * more signature, and learns it from that request's count. If Redis is down the in-memory
 * insurance limiters take over, so an outage never turns into refused commands.
 */
export class RateLimits {
  private readonly address: RateLimiterRedis;
  private readonly principal: RateLimiterRedis;

  constructor(redis: RedisClient, limits: { address: RateLimitSettings; principal: RateLimitSettings }, keyPrefix: string) {
    this.address = limiterFor(redis, limits.address, keyPrefix);
    this.principal = limiterFor(redis, limits.principal, keyPrefix);
  }

  /**
   * /v1's front: `authentication` wrapped in the limits, in the order that keeps floods away from
   * signature checks.
   */
  around(authentication: RequestHandler): Array<RequestHandler | ErrorRequestHandler> {
    return [this.beforeAuthentication, authentication, this.afterRefusedAuthentication, this.afterAuthentication];
  }

  /** For paths without a principal (documents, dashboard): the address, counted before anything else. */
  readonly perAddress: RequestHandler = (request, response, next) => {
    this.count([[this.address, byClientAddress(request)]]).then((verdicts) => answer(verdicts, response, next), next);
  };

  /** /v1, first: an address already over its limit is refused without a signature check. */
  readonly beforeAuthentication: RequestHandler = (request, response, next) => {
    const limiter = this.address;
    const msBeforeNext = inMemoryBlockMs(limiter, byClientAddress(request));
    if (msBeforeNext <= 0) return next();
    refuse(response, { limiter, points: limiter.points, refused: true, remainingPoints: 0, msBeforeNext }, next);
  };

  /** /v1, when authentication failed: the attempt counts against the address; over the limit it is a 429. */
  readonly afterRefusedAuthentication: ErrorRequestHandler = (error: unknown, request, response, next) => {
    if (error instanceof RateLimitedError) return next(error);
    this.count([[this.address, byClientAddress(request)]]).then(
      (verdicts) => answer(verdicts, response, (refusal?: unknown) => next(refusal ?? error)),
      next,
    );
  };

  /** /v1, once authenticated: the address and the principal, in one round trip. */
  readonly afterAuthentication: RequestHandler = (request, response, next) => {
    this.count([
      [this.address, byClientAddress(request)],
      [this.principal, byPrincipal(request)],
    ]).then((verdicts) => answer(verdicts, response, next), next);
  };

  /** Every key is consumed in the same turn, so the auto-pipelining client sends them in one write. */
  private count(keys: Array<[RateLimiterRedis, string]>): Promise<Verdict[]> {
    return unlessRecorded(() => Promise.all(keys.map(([limiter, key]) => verdictOf(limiter, key))));
  }
}

function limiterFor(redis: RedisClient, settings: RateLimitSettings, keyPrefix: string): RateLimiterRedis {
  const duration = Math.max(1, Math.round(settings.durationMs / 1000));
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:rate-limit`,
    points: settings.points,
    duration,
    // A key over its limit is refused from memory for the rest of its window (no round trip).
    inMemoryBlockOnConsumed: settings.points + 1,
    insuranceLimiter: new RateLimiterMemory({ points: settings.points, duration }),
  });
}

/**
 * How long `key` stays refused from memory. `getInMemoryBlockMsBeforeExpire` is public in the
 * library's source (the check `consume` itself makes first) but missing from its type declarations
 * (11.4.0); test/integration/rate-limits.test.ts fails if it stops refusing.
 */
function inMemoryBlockMs(limiter: RateLimiterRedis, key: string): number {
  const blocks = limiter as unknown as { getInMemoryBlockMsBeforeExpire(rlKey: string): number };
  return blocks.getInMemoryBlockMsBeforeExpire(limiter.getKey(key));
}

async function verdictOf(limiter: RateLimiterRedis, key: string): Promise<Verdict> {
  try {
    const result = await limiter.consume(key);
    return { limiter, points: limiter.points, refused: false, ...timing(result) };
  } catch (rejection: unknown) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    return { limiter, points: limiter.points, refused: true, ...timing(rejection) };
  }
}

const timing = (result: RateLimiterRes) => ({ remainingPoints: result.remainingPoints, msBeforeNext: result.msBeforeNext });

/** Sets the headers of the last verdict (the principal's, when there is one) unless an earlier one refuses. */
function answer(verdicts: Verdict[], response: Response, next: NextFunction): void {
  const refused = verdicts.find((verdict) => verdict.refused);
  if (refused) return refuse(response, refused, next);
  setRateLimitHeaders(response, verdicts.at(-1)!);
  next();
}

function refuse(response: Response, verdict: Verdict, next: NextFunction): void {
  setRateLimitHeaders(response, verdict);
  response.set('Retry-After', String(Math.max(1, Math.ceil(verdict.msBeforeNext / 1000))));
  next(new RateLimitedError());
}

function setRateLimitHeaders(response: Response, { points, remainingPoints, msBeforeNext }: Verdict): void {
  response.set('RateLimit-Limit', String(points));
  response.set('RateLimit-Remaining', String(Math.max(remainingPoints, 0)));
  response.set('RateLimit-Reset', String(Math.ceil(msBeforeNext / 1000)));
}
