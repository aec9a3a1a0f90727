import { Redis, type RedisOptions } from 'ioredis';
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

/**
 * BullMQ loses jobs if Redis evicts keys, so anything but `noeviction` is refused (or, when
 * configured, logged loudly). Managed Redis that forbids CONFIG GET is reported, not refused.
 */
export async function checkEvictionPolicy(url: string, mode: 'refuse' | 'warn', logger: Logger): Promise<void> {
  const client = new Redis({ ...producerConnection(url), lazyConnect: true });
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[] | Record<string, string>;
    const policy = Array.isArray(reply) ? reply[1] : reply['maxmemory-policy'];
    if (policy === 'noeviction') return;
    const message = `Redis maxmemory-policy is "${policy}"; BullMQ needs "noeviction" or jobs can be lost`;
    if (mode === 'refuse') throw new Error(message);
    logger.warn(message);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('Redis maxmemory-policy')) throw error;
    logger.warn('could not read Redis maxmemory-policy', { error: String(error) });
  } finally {
    client.disconnect();
  }
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
