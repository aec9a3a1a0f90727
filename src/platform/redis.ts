import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { DependencyError, redactUrl } from './dependencies.js';
import type { Logger } from './logger.js';

/**
 * Where a process's Redis clients connect. A single server is `url` (REDIS_URL). A Redis Cluster
 * is `clusterNodes` (REDIS_CLUSTER_NODES, seeds: the clients discover the other nodes), and `url`
 * then only carries the user, password and TLS (`rediss:`) every node shares.
 */
export interface RedisTarget {
  url: string;
  clusterNodes?: { host: string; port: number }[];
}

/** What the service's code talks to: one server, or a cluster (routing each key to its node). */
export type RedisClient = Redis | Cluster;

/** Where, for log lines and errors: the URL with its password masked, or the cluster's seeds. */
export function describeRedis(target: RedisTarget): string {
  if (!target.clusterNodes) return redactUrl(target.url);
  return `cluster ${target.clusterNodes.map(({ host, port }) => `${host}:${port}`).join(',')}`;
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

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

/**
 * The same two kinds of connection to a cluster. Each node connection keeps the settings above;
 * the cluster client itself reconnects with the same capped backoff. Producers fail fast
 * (no offline queue); workers queue commands while the cluster reconnects.
 */
export function clusterConnection(target: RedisTarget, kind: 'producer' | 'worker'): ClusterOptions {
  const { host: _host, port: _port, db: _db, ...credentials } = fromUrl(target.url);
  return {
    redisOptions:
      kind === 'worker'
        ? { ...credentials, maxRetriesPerRequest: null }
        : { ...credentials, maxRetriesPerRequest: 1, connectTimeout: 2_000 },
    enableOfflineQueue: kind === 'worker',
    clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  };
}

/**
 * A client of `kind` for `target`: a Redis, or a Cluster routing each key to its node. `shared`:
 * the process's own client, which every request may use at once (the API's rate limits); its
 * commands issued in one event-loop turn go out in one write (ioredis auto-pipelining) instead of
 * one write each. BullMQ's connections stay as they are.
 */
export function openRedis(target: RedisTarget, kind: 'producer' | 'worker', { shared = false } = {}): RedisClient {
  const pipelining = shared ? { enableAutoPipelining: true } : {};
  if (target.clusterNodes) return new Cluster(target.clusterNodes, { ...clusterConnection(target, kind), ...pipelining });
  return new Redis({ ...(kind === 'worker' ? workerConnection(target.url) : producerConnection(target.url)), ...pipelining });
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
  /**
   * Undefined where CONFIG GET is forbidden (some managed Redis services). On a cluster: the
   * first node's policy that is not `noeviction`, else `noeviction` (every node must hold it).
   */
  maxmemoryPolicy: string | undefined;
  /** Cluster nodes (masters and replicas) that were asked; absent for a single server. */
  clusterNodes?: number;
}

/**
 * One connection attempt, no retries: the server's version and eviction policy (on a cluster,
 * every node's), or a DependencyError naming where. The error listener keeps ioredis from
 * printing "[ioredis] Unhandled error event" (the failure reaches the caller through `connect()`).
 */
export async function probeRedis(target: RedisTarget, timeoutMs = 2_000): Promise<RedisFacts> {
  const once = { lazyConnect: true, enableOfflineQueue: false, connectTimeout: timeoutMs, maxRetriesPerRequest: 0 };
  const client: RedisClient = target.clusterNodes
    ? new Cluster(target.clusterNodes, {
        ...clusterConnection(target, 'producer'),
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
        slotsRefreshTimeout: timeoutMs,
        redisOptions: { ...clusterConnection(target, 'producer').redisOptions, ...once },
      })
    : new Redis({ ...fromUrl(target.url), ...once, retryStrategy: () => null });
  let lastError: unknown;
  client.on('error', (error: unknown) => (lastError = causeOf(error)));
  try {
    await client.connect();
    if (!isCluster(client)) return await serverFacts(client);
    const nodes = await Promise.all(client.nodes('all').map(serverFacts));
    const policies = nodes.map((node) => node.maxmemoryPolicy);
    return {
      version: nodes[0]?.version ?? 'unknown',
      maxmemoryPolicy:
        policies.find((policy) => policy !== undefined && policy !== 'noeviction') ??
        (policies.includes(undefined) ? undefined : 'noeviction'),
      clusterNodes: nodes.length,
    };
  } catch (error) {
    // connect() only says "Connection is closed."; the error event said why.
    throw new DependencyError('Redis', describeRedis(target), lastError ?? error);
  } finally {
    client.disconnect();
  }
}

async function serverFacts(client: Redis): Promise<RedisFacts> {
  const info = await client.info('server');
  const reply = (await client.config('GET', 'maxmemory-policy').catch(() => undefined)) as
    string[] | Record<string, string> | undefined;
  return {
    version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    maxmemoryPolicy: Array.isArray(reply) ? reply[1] : reply?.['maxmemory-policy'],
  };
}

/** A cluster client reports "all nodes failed"; the last node's own error says why (ECONNREFUSED...). */
function causeOf(error: unknown): unknown {
  return (error as { lastNodeError?: unknown } | null)?.lastNodeError ?? error;
}

/**
 * BullMQ loses jobs if Redis evicts keys, so anything but `noeviction` is refused (or, when
 * configured, logged loudly). Managed Redis that forbids CONFIG GET is reported, not refused.
 * A Redis that cannot be reached is refused in `refuse` mode: the check is never skipped
 * (processes that may wait for Redis do so first, in `awaitDependencies`).
 */
export async function checkEvictionPolicy(target: RedisTarget, mode: 'refuse' | 'warn', logger: Logger): Promise<void> {
  const facts = await probeRedis(target).catch((error: unknown) => {
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
export function redisAnswers(redis: RedisClient): Promise<boolean> {
  return redis.ping().then(
    () => true,
    () => false,
  );
}

/**
 * Waits (bounded) until a fail-fast client is connected, for work that must not fail just because
 * it started a moment after the process did (a CLI command, say). Rejects if Redis stays away.
 */
export async function redisReady(redis: RedisClient, timeoutMs = 3_000): Promise<void> {
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
