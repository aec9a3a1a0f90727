import type { PostgreSqlConnection } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Orm } from '../platform/db/orm.js';
import { isCluster, type RedisClient } from '../platform/redis.js';
import type { Metrics } from '../platform/metrics.js';
import type { QueueSet } from './queue-set.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/** The names of the scrape-time gauges, for whoever queries them (dashboards, alerts and their tests import these). */
export const SYSTEM_GAUGES = {
  queueJobs: 'cqrs_queue_jobs',
  queueBacklog: 'cqrs_queue_backlog_jobs',
  queueOldestWaiting: 'cqrs_queue_oldest_waiting_age_seconds',
  outboxBacklog: 'cqrs_outbox_backlog_events',
  outboxOldestUnpublished: 'cqrs_outbox_oldest_unpublished_age_seconds',
  dependencyUp: 'cqrs_dependency_up',
  redisUsedMemory: 'cqrs_redis_used_memory_bytes',
  redisMaxmemory: 'cqrs_redis_maxmemory_bytes',
  dbPoolConnections: 'cqrs_db_pool_connections',
} as const;

interface ObservedSystem {
  orm: Orm;
  redis: RedisClient;
}

/**
 * Gauges read at scrape time, the same in the API and every worker process: outbox backlog and
 * age, dependency health, Redis memory and the PostgreSQL pool. The queues' gauges come from the
 * processes that open the queues at start (observeQueues).
 */
export function observeSystem(metrics: Metrics, system: ObservedSystem): void {
  const outboxState = outboxStateReader(system.orm);
  metrics.gaugeAtScrape(SYSTEM_GAUGES.outboxBacklog, 'Committed events not yet published to Redis', [], async (gauge) => {
    gauge.set((await outboxState()).backlog);
  });
  metrics.gaugeAtScrape(SYSTEM_GAUGES.outboxOldestUnpublished, 'Age of the oldest unpublished event', [], async (gauge) => {
    gauge.set((await outboxState()).oldestAgeSeconds);
  });
  metrics.gaugeAtScrape(
    SYSTEM_GAUGES.dependencyUp,
    'Whether a dependency answers (1) or not (0)',
    ['dependency'],
    async (gauge) => {
      const [postgres, redis] = await Promise.all([
        system.orm.em
          .getConnection()
          .execute('select 1')
          .then(
            () => 1,
            () => 0,
          ),
        system.redis.ping().then(
          () => 1,
          () => 0,
        ),
      ]);
      gauge.set({ dependency: 'postgres' }, postgres);
      gauge.set({ dependency: 'redis' }, redis);
    },
  );
  // Redis runs with noeviction: at maxmemory every enqueue fails (alerts CqrsRedisMemory*).
  metrics.gaugeAtScrape(
    SYSTEM_GAUGES.redisUsedMemory,
    'Memory Redis uses (INFO used_memory; on a cluster, of the master closest to its maxmemory)',
    [],
    async (gauge) => {
      gauge.set((await redisMemory(system.redis)).used);
    },
  );
  metrics.gaugeAtScrape(
    SYSTEM_GAUGES.redisMaxmemory,
    'Redis maxmemory (0: no limit; on a cluster, of the master closest to it)',
    [],
    async (gauge) => {
      gauge.set((await redisMemory(system.redis)).max);
    },
  );
  metrics.gaugeAtScrape(SYSTEM_GAUGES.dbPoolConnections, 'PostgreSQL pool connections by state', ['state'], async (gauge) => {
    const pool = await (system.orm.em.getConnection() as PostgreSqlConnection).getNativeClient();
    gauge.set({ state: 'used' }, pool.totalCount - pool.idleCount);
    gauge.set({ state: 'idle' }, pool.idleCount);
    gauge.set({ state: 'waiting' }, pool.waitingCount);
  });
}

/**
 * The queues' gauges, from every process that opens the queues at start: the workers (each opens
 * every queue, so a role scaled to zero still has its queues reported) and `local`. The API
 * leaves them out, as it opens the queues only when an operator asks (src/composition-root.ts).
 * Alerts and KEDA read them with `max by (queue)`.
 */
export function observeQueues(metrics: Metrics, { queues, deadLetterQueues }: QueueSet, redis: RedisClient): void {
  const allQueues = [...queues.values(), ...deadLetterQueues.values()];
  metrics.gaugeAtScrape(SYSTEM_GAUGES.queueJobs, 'Jobs per queue and state', ['queue', 'state'], async (gauge) => {
    for (const queue of allQueues) {
      const counts = await queue.getJobCounts(...JOB_STATES);
      for (const state of JOB_STATES) gauge.set({ queue: queue.name, state }, counts[state] ?? 0);
    }
  });
  metrics.gaugeAtScrape(
    SYSTEM_GAUGES.queueBacklog,
    'Jobs ready to run: waiting + prioritized + delayed and due (KEDA scales on it)',
    ['queue'],
    async (gauge) => {
      for (const queue of queues.values()) gauge.set({ queue: queue.name }, await backlogOf(queue, redis));
    },
  );
  metrics.gaugeAtScrape(
    SYSTEM_GAUGES.queueOldestWaiting,
    'How long the oldest waiting job has been ready to run',
    ['queue'],
    async (gauge) => {
      for (const queue of queues.values()) gauge.set({ queue: queue.name }, await oldestWaitingAgeSeconds(queue, redis));
    },
  );
}

/** Waiting + prioritized + delayed jobs whose time has come: what more workers would work on now. */
export async function backlogOf(queue: Queue, redis: RedisClient): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'prioritized');
  // BullMQ scores delayed jobs as dueTimestamp * 0x1000 + sequence.
  const dueDelayed = await redis.zcount(queue.keys.delayed!, 0, (Date.now() + 1) * 0x1000 - 1);
  return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + dueDelayed;
}

/**
 * Seconds since the oldest waiting job became ready to run (0 when none waits). BullMQ adds
 * jobs at the head of the wait list and workers take them from the tail, so the tail is the
 * oldest (its range helpers return the head, the newest, for index -1). A job that was delayed
 * (an order's expiry) or retried became ready at its due time or its last attempt, not at its
 * creation: counting from creation would report a 15-minute-old expiry as 15 minutes late.
 */
export async function oldestWaitingAgeSeconds(queue: Queue, redis: RedisClient, now = Date.now()): Promise<number> {
  const id = await redis.lindex(queue.keys.wait!, -1);
  const job = id ? await queue.getJob(id) : undefined;
  if (!job) return 0;
  const readySince = Math.max(job.timestamp + (job.opts.delay ?? 0), job.processedOn ?? 0);
  return Math.max(0, (now - readySince) / 1000);
}

/**
 * Used memory and maxmemory from INFO memory. On a cluster, INFO carries no key (a cluster client
 * would answer from any node): every master is asked and the one closest to its limit is reported,
 * since with `noeviction` that node refuses writes first.
 */
export async function redisMemory(redis: RedisClient): Promise<{ used: number; max: number }> {
  const servers = isCluster(redis) ? redis.nodes('master') : [redis];
  const reports = await Promise.all(
    servers.map(async (server) => {
      const info = await server.info('memory');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      return { used: field('used_memory'), max: field('maxmemory') };
    }),
  );
  const fill = ({ used, max }: { used: number; max: number }) => (max > 0 ? used / max : 0);
  return reports.reduce(
    (fullest, report) =>
      fill(report) > fill(fullest) || (fill(report) === fill(fullest) && report.used > fullest.used) ? report : fullest,
    { used: 0, max: 0 },
  );
}

/** Both outbox gauges from one query per scrape (they are collected one after the other). */
function outboxStateReader(orm: Orm) {
  let cached: { at: number; value: Promise<{ backlog: number; oldestAgeSeconds: number }> } | undefined;
  return () => {
    if (cached && Date.now() - cached.at < 1_000) return cached.value;
    const value = orm.em
      .getConnection()
      .execute<{ backlog: string; oldest: string | null }[]>(
        `select count(*) as backlog, extract(epoch from now() - min(occurred_at)) as oldest
           from outbox_events where published_at is null`,
      )
      .then(([row]) => ({ backlog: Number(row?.backlog ?? 0), oldestAgeSeconds: Number(row?.oldest ?? 0) }));
    cached = { at: Date.now(), value };
    return value;
  };
}
