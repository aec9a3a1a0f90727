import { Redis, type RedisOptions } from 'ioredis';
import { DependencyError } from './dependencies.js';
import type { Logger } from './logger.js';

/**
 * Connection settings, following BullMQ's production guide: workers never give up on Redis
 * (`maxRetriesPerRequest: null`, reconnect forever with capped backoff); producers fail fast
 * (`enableOfflineQueue: false`) so an outage surfaces as an error instead of a hang.
 */
export function workerConnection(url: string): RedisOptions {
  return { ...fromUrl(url), maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(attempt * 200, 5_000) };
}

export function producerConnection(url: string): RedisOptions {
  return {
    ...fromUrl(url),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
}

function fromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

export interface RedisFacts {
  version: string;
  /** Undefined where CONFIG GET is forbidden (some managed Redis services). */
  maxmemoryPolicy: string | undefined;
}

/**
 * One connection attempt, no retries: the server's version and eviction policy, or a
 * DependencyError naming the URL. The error listener keeps ioredis from printing
 * "[ioredis] Unhandled error event" (the failure reaches the caller through `connect()`).
 */
export async function probeRedis(url: string, timeoutMs = 2_000): Promise<RedisFacts> {
  const client = new Redis({
    ...fromUrl(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  client.on('error', (error) => (lastError = error));
  try {
    await client.connect();
    const info = await client.info('server');
    const reply = (await client.config('GET', 'maxmemory-policy').catch(() => undefined)) as
      string[] | Record<string, string> | undefined;
    return {
      version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      maxmemoryPolicy: Array.isArray(reply) ? reply[1] : reply?.['maxmemory-policy'],
    };
  } catch (error) {
    // connect() only says "Connection is closed."; the error event said why.
    throw new DependencyError('Redis', url, lastError ?? error);
  } finally {
    client.disconnect();
  }
}

/**
 * BullMQ loses jobs if Redis evicts keys, so anything but `noeviction` is refused (or, when
 * configured, logged loudly). Managed Redis that forbids CONFIG GET is reported, not refused.
 * A Redis that cannot be reached is refused in `refuse` mode: the check is never skipped
 * (processes that may wait for Redis do so first, in `awaitDependencies`).
 */
export async function checkEvictionPolicy(url: string, mode: 'refuse' | 'warn', logger: Logger): Promise<void> {
  const facts = await probeRedis(url).catch((error: unknown) => {
    if (mode === 'refuse') throw error;
    logger.warn(error instanceof Error ? error.message : String(error));
  });
  if (facts) judgeEvictionPolicy(facts.maxmemoryPolicy, mode, logger);
}

export function judgeEvictionPolicy(policy: string | undefined, mode: 'refuse' | 'warn', logger: Logger): void {
  if (policy === 'noeviction') return;
  if (policy === undefined) return void logger.warn('could not read Redis maxmemory-policy (CONFIG GET refused)');
  const message = `Redis maxmemory-policy is "${policy}"; BullMQ needs "noeviction" or jobs can be lost`;
  if (mode === 'refuse') throw new EvictionPolicyError(message);
  logger.warn(message);
}

export class EvictionPolicyError extends Error {
  override name = 'EvictionPolicyError';
}

/** Whether Redis answers now. With a fail-fast client a down Redis answers "no" at once. */
export function redisAnswers(redis: Redis): Promise<boolean> {
  return redis.ping().then(
    () => true,
    () => false,
  );
}

/**
 * Waits (bounded) until a fail-fast client is connected, for work that must not fail just because
 * it started a moment after the process did (a CLI command, say). Rejects if Redis stays away.
 */
export async function redisReady(redis: Redis, timeoutMs = 3_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis is not reachable (waited ${timeoutMs} ms)`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
