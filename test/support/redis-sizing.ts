/**
 * The Redis sizing formula of docs/deploy.md ("Redis memory"), as code so that a test can start
 * a Redis of exactly that size and run the service's jobs through it. Per-job figures are upper
 * bounds of what test/integration/redis-sizing.test.ts measures (BullMQ hash + list/zset entry +
 * an event envelope of a typical order).
 */
export const BYTES_PER_JOB = {
  /**
   * Retained completed job: the hash with its data and return value, its entry in the completed
   * set, and its share of the queue's event stream (BullMQ caps it at 10,000 events).
   */
  completed: 2_560,
  /** Retained failed job: as completed, plus the error and its stack trace. */
  failed: 4_096,
  /** Delayed job (an order's expiry) or a waiting one in a backlog. */
  pending: 2_560,
} as const;

/** Redis itself, BullMQ's Lua scripts, client buffers (measured ~1 MB), and room for connections. */
export const BASE_BYTES = 4 * 1024 * 1024;

/** Headroom on top of the sum: fragmentation and bursts. maxmemory is the sum times this. */
export const HEADROOM = 1.25;

export interface RedisLoad {
  /** Retained completed jobs per queue (JOB_RETENTION.completed.count each). */
  retainedCompleted: number[];
  /** Retained failed jobs per queue (JOB_RETENTION.failed.count each). */
  retainedFailed: number[];
  /** Jobs due later: orders per second x ORDER_PAYMENT_TIMEOUT in seconds (one expiry job per order). */
  delayed: number;
  /** The backlog Redis must hold while workers are down or slow, plus dead letters. */
  backlog: number;
}

export function redisMaxmemoryBytes(load: RedisLoad): number {
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const bytes =
    BASE_BYTES +
    sum(load.retainedCompleted) * BYTES_PER_JOB.completed +
    sum(load.retainedFailed) * BYTES_PER_JOB.failed +
    (load.delayed + load.backlog) * BYTES_PER_JOB.pending;
  return Math.ceil(bytes * HEADROOM);
}
