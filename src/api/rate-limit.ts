import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
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

/**
 * Fixed windows counted in Redis, any number of keys in one round trip (the keys share the
 * prefix's hash tag, so they live in one slot of a cluster). Each key: created with its window's
 * TTL, incremented, answered with its count and the milliseconds left (the same keys and the same
 * script as rate-limiter-flexible's RateLimiterRedis).
 */
const CONSUME_SCRIPT = `
local answer = {}
for i, key in ipairs(KEYS) do
  redis.call('set', key, 0, 'EX', ARGV[i], 'NX')
  local consumed = redis.call('incr', key)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, ARGV[i])
    ttl = 1000 * ARGV[i]
  end
  answer[#answer + 1] = consumed
  answer[#answer + 1] = ttl
end
return answer`;

interface Window {
  points: number;
  seconds: number;
  /** Where the count lives while Redis cannot be reached (per replica, as rate-limiter-flexible's insurance). */
  insurance: RateLimiterMemory;
}

interface Verdict {
  key: string;
  window: Window;
  consumed: number;
  msBeforeNext: number;
}

type ConsumeCommand = (...args: Array<string | number>) => Promise<number[]>;

/**
 * The API's request limits, shared across replicas through Redis and answered with the same
 * RateLimit-* headers and 429 problem wherever they apply: per client address (so floods of
 * anonymous or badly signed requests are refused before a signature is checked) and per principal.
 *
 * On /v1 the address and the principal are counted together, in one Redis round trip after the
 * signature check (`afterAuthentication`); a request whose authentication fails is counted against
 * its address alone (`afterRefusedAuthentication`). An address found over its limit is then refused
 * from memory (`beforeAuthentication`) until its window ends, with no signature check and no round
 * trip; a replica that has not yet seen the address over its limit checks one more signature, and
 * learns it from that request's count. If Redis is down the in-memory insurance limits take over,
 * so an outage never turns into refused commands.
 */
export class RateLimits {
  private readonly address: Window;
  private readonly principal: Window;
  private readonly keyPrefix: string;
  private readonly consume: ConsumeCommand;
  /** Keys over their limit -> when their window ends (ms since the epoch). */
  private readonly blocked = new Map<string, number>();

  constructor(
    redis: RedisClient,
    limits: { address: RateLimitSettings; principal: RateLimitSettings },
    keyPrefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.address = windowOf(limits.address);
    this.principal = windowOf(limits.principal);
    this.keyPrefix = `${keyPrefix}:rate-limit:`;
    redis.defineCommand('consumeRateLimits', { lua: CONSUME_SCRIPT });
    const command = (redis as unknown as { consumeRateLimits: ConsumeCommand }).consumeRateLimits;
    this.consume = command.bind(redis);
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
    const address = byClientAddress(request);
    if (this.refusedFromMemory(address, response, next)) return;
    this.count([[address, this.address]]).then((verdicts) => this.answer(verdicts, response, next), next);
  };

  /** /v1, first: an address already over its limit is refused without a signature check. */
  readonly beforeAuthentication: RequestHandler = (request, response, next) => {
    if (!this.refusedFromMemory(byClientAddress(request), response, next)) next();
  };

  /** /v1, when authentication failed: the attempt counts against the address; over the limit it is a 429. */
  readonly afterRefusedAuthentication: ErrorRequestHandler = (error: unknown, request, response, next) => {
    if (error instanceof RateLimitedError) return next(error);
    this.count([[byClientAddress(request), this.address]]).then(
      (verdicts) => this.answer(verdicts, response, (refusal?: unknown) => next(refusal ?? error)),
      next,
    );
  };

  /** /v1, once authenticated: the address and the principal, in one round trip. */
  readonly afterAuthentication: RequestHandler = (request, response, next) => {
    const keys: Array<[string, Window]> = [
      [byClientAddress(request), this.address],
      [byPrincipal(request), this.principal],
    ];
    this.count(keys).then((verdicts) => this.answer(verdicts, response, next), next);
  };

  private async count(keys: Array<[string, Window]>): Promise<Verdict[]> {
    try {
      const answer = await unlessRecorded(() =>
        this.consume(keys.length, ...keys.map(([key]) => this.keyPrefix + key), ...keys.map(([, window]) => window.seconds)),
      );
      return keys.map(([key, window], i) => ({
        key,
        window,
        consumed: Number(answer[2 * i]),
        msBeforeNext: Number(answer[2 * i + 1]),
      }));
    } catch {
      return Promise.all(keys.map(([key, window]) => insured(window, key)));
    }
  }

  /**
   * Sets the headers of the last verdict (the principal's, when there is one) unless an earlier one
   * refuses; an address over its limit is remembered until its window ends.
   */
  private answer(verdicts: Verdict[], response: Response, next: NextFunction): void {
    const refused = verdicts.find(({ window, consumed }) => consumed > window.points);
    if (!refused) {
      setRateLimitHeaders(response, verdicts.at(-1)!);
      return next();
    }
    if (refused.window === this.address) this.block(refused.key, this.now() + refused.msBeforeNext);
    refuse(response, refused, next);
  }

  private refusedFromMemory(key: string, response: Response, next: NextFunction): boolean {
    const until = this.blocked.get(key);
    if (until === undefined) return false;
    const msBeforeNext = until - this.now();
    if (msBeforeNext <= 0) {
      this.blocked.delete(key);
      return false;
    }
    refuse(response, { key, window: this.address, consumed: this.address.points + 1, msBeforeNext }, next);
    return true;
  }

  /**
   * Bounded: entries are added in about the order they expire, so the oldest go first. Forgetting
   * one costs a signature check and a round trip, never a request let through: Redis still counts.
   */
  private block(key: string, until: number): void {
    this.blocked.delete(key);
    this.blocked.set(key, until);
    if (this.blocked.size <= MAX_BLOCKED) return;
    const now = this.now();
    for (const [oldest, ends] of this.blocked) {
      if (this.blocked.size <= MAX_BLOCKED && ends > now) break;
      this.blocked.delete(oldest);
    }
  }
}

const MAX_BLOCKED = 10_000;

function refuse(response: Response, verdict: Verdict, next: NextFunction): void {
  setRateLimitHeaders(response, verdict);
  response.set('Retry-After', String(Math.max(1, Math.ceil(verdict.msBeforeNext / 1000))));
  next(new RateLimitedError());
}

function windowOf(settings: RateLimitSettings): Window {
  const seconds = Math.max(1, Math.round(settings.durationMs / 1000));
  return { points: settings.points, seconds, insurance: new RateLimiterMemory({ points: settings.points, duration: seconds }) };
}

async function insured(window: Window, key: string): Promise<Verdict> {
  const result = await window.insurance.consume(key).catch((rejection: unknown) => {
    if (rejection instanceof RateLimiterRes) return rejection;
    throw rejection;
  });
  return { key, window, consumed: result.consumedPoints, msBeforeNext: result.msBeforeNext };
}

function setRateLimitHeaders(response: Response, { window, consumed, msBeforeNext }: Verdict): void {
  response.set('RateLimit-Limit', String(window.points));
  response.set('RateLimit-Remaining', String(Math.max(window.points - consumed, 0)));
  response.set('RateLimit-Reset', String(Math.ceil(msBeforeNext / 1000)));
}
