import type { JobsOptions } from 'bullmq';
import { DOMAIN_EVENT_TYPES, type DomainEventType } from '../events/index.js';
import { PUBLISHED_DOMAIN_EVENT_TYPES } from '../events/integration/index.js';
import type { Config } from '../platform/config.js';
import { EVENT_HAS_WEBHOOK_SUBSCRIBER } from './processes/webhook-subscribers.js';

/**
 * One queue, declared once. Routing (which events the relay puts on it), job options (attempts,
 * backoff, retention), the worker role that drains it, its dead-letter queue and its metrics are
 * all derived from this; the process that handles its jobs is declared beside it in
 * src/workers/processes.ts. Adding a queue is adding an entry here and a process there.
 */
export interface QueueDeclaration {
  /** The WORKER_ROLES value whose workers drain this queue. */
  role: string;
  /**
   * Event types the relay enqueues here: one job per event (job id = event id), unless the queue
   * takes batches.
   */
  receives: readonly DomainEventType[];
  /**
   * The queue takes batches: the relay puts the events of one cycle in jobs of up to this many
   * (src/workers/job-envelope.ts: EventBatch); a lone event still goes as a job of its own. Its
   * handler must take both, and a batched queue's events are due at once (no `delayMs`).
   */
  batchSize?: (config: Config) => number;
  /**
   * Only events for which this holds are enqueued here: an SQL boolean over the outbox row `event`,
   * evaluated by the relay in the statement that claims the row (one snapshot, no further round
   * trip). Unset: every event of a type the queue `receives`.
   */
  onlyIf?: string;
  /** Jobs are due this long after their event occurred rather than at once (relay lag never lengthens it). */
  delayMs?: (config: Config) => number;
  attempts: (config: Config) => number;
  /**
   * Jobs a worker runs at once on this queue (unset: WORKER_CONCURRENCY). For jobs that mostly wait
   * on something other than this process's CPU and pool, where the shared default would cap the
   * queue's throughput at concurrency / job duration.
   */
  concurrency?: (config: Config) => number;
  /** First retry delay; each further retry waits twice as long. */
  backoffMs: (config: Config) => number;
}

const fixed = (value: number) => () => value;

export const QUEUES = {
  projections: {
    role: 'projections',
    receives: DOMAIN_EVENT_TYPES,
    // One transaction (one commit) and one job's Redis round trips for many events.
    batchSize: (config) => config.PROJECTION_BATCH_SIZE,
    // One job at a time by default: the relay's batches grow with the load, so a worker keeps up
    // without overlapping jobs. Above 1, BullMQ asks Redis for another job as soon as it takes one,
    // which on a queue that is not backed up finds none: a round trip and a wake-up per job. At 1
    // the next job comes back with the finished one's acknowledgement (docs/performance.md).
    concurrency: (config) => config.PROJECTION_CONCURRENCY,
    attempts: (config) => config.PROJECTION_ATTEMPTS,
    backoffMs: fixed(250),
  },
  payments: {
    role: 'payments',
    receives: ['OrderPlaced', 'OrderCancelled'],
    // A payment job waits on the gateway most of its time, and holds no connection while it does.
    concurrency: (config) => config.PAYMENT_CONCURRENCY,
    attempts: (config) => config.PAYMENT_ATTEMPTS,
    backoffMs: fixed(500),
  },
  'order-expiry': {
    role: 'expiry',
    receives: ['OrderPlaced'],
    delayMs: (config) => config.ORDER_PAYMENT_TIMEOUT,
    attempts: fixed(8),
    backoffMs: fixed(250),
  },
  webhooks: {
    role: 'webhooks',
    // Only what is published as an integration event (src/events/integration) leaves the service.
    receives: PUBLISHED_DOMAIN_EVENT_TYPES,
    // ...and only when its tenant subscribes to it: most events of most tenants go nowhere.
    onlyIf: EVENT_HAS_WEBHOOK_SUBSCRIBER,
    attempts: (config) => config.WEBHOOK_ATTEMPTS,
    backoffMs: (config) => config.WEBHOOK_RETRY_DELAY,
  },
} as const satisfies Record<string, QueueDeclaration>;

export type QueueName = keyof typeof QUEUES;
export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];

/** Every worker role: the relay, plus one per queue. */
export const WORKER_ROLES = ['relay', ...new Set(QUEUE_NAMES.map((name) => QUEUES[name].role))];

export const deadLetterQueueOf = (queue: QueueName): string => `${queue}.dead-letter`;

export function isQueueName(name: string): name is QueueName {
  return Object.hasOwn(QUEUES, name);
}

/**
 * Finished jobs each queue keeps in Redis, bounded by age AND count so that Redis memory stays
 * bounded whatever the throughput (Redis runs with noeviction; sizing: docs/deploy.md, "Redis
 * memory", checked by test/integration/redis-sizing.test.ts). While kept, a completed job
 * deduplicates a re-published event with the same job id; handlers are idempotent for a
 * redelivery after that. A failed job is also copied to the dead-letter queue.
 */
export const JOB_RETENTION = {
  completed: { age: 24 * 3600, count: 5_000 },
  failed: { age: 7 * 24 * 3600, count: 1_000 },
} as const;

/**
 * How many times a job may stall (its worker died, or lost the job's lock, while running it) per
 * attempt. Handlers are idempotent, so a stalled job simply runs again; the budget only stops a job
 * that takes down every worker that runs it (a poison pill) from cycling forever. A job that stalls
 * more often than this within one attempt fails that attempt in the consumer (src/workers/consumer.ts),
 * like any other failure: retried with backoff while attempts remain, then dead-lettered.
 */
export const STALLS_PER_ATTEMPT = 3;

/**
 * BullMQ's own `maxStalledCount` for a queue's workers: above any count the consumer lets through
 * (a stall budget for every attempt, plus one attempt's worth). BullMQ fails a job past its limit
 * without running the processor; that stays a backstop the consumer dead-letters, never the path.
 */
export function maxStalledCountFor(queue: QueueName, config: Config): number {
  const declared: QueueDeclaration = QUEUES[queue];
  return STALLS_PER_ATTEMPT * (declared.attempts(config) + 1);
}

/** Jobs a worker of this queue runs at once: its own `concurrency`, else WORKER_CONCURRENCY. */
export function concurrencyFor(queue: QueueName, config: Config): number {
  const declared: QueueDeclaration = QUEUES[queue];
  return declared.concurrency?.(config) ?? config.WORKER_CONCURRENCY;
}

/** A queue's default job options: attempts and backoff from its declaration, bounded retention. */
export function jobOptionsFor(queue: QueueName, config: Config): JobsOptions {
  const declared: QueueDeclaration = QUEUES[queue];
  return {
    attempts: declared.attempts(config),
    backoff: { type: 'exponential', delay: declared.backoffMs(config) },
    removeOnComplete: { ...JOB_RETENTION.completed },
    removeOnFail: { ...JOB_RETENTION.failed },
  };
}

/** Where the relay sends an event: each queue that receives its type, with the job's delay. */
export interface Route {
  queue: QueueName;
  delayMs: number;
  /** The queue's `onlyIf`: the event goes there only if this SQL condition holds for its row. */
  onlyIf?: string;
  /** The queue's `batchSize`: most events in one of its jobs (unset: one job per event). */
  batchSize?: number;
}

/** The routing table, derived from the declarations: event type -> routes. */
export function routingTable(config: Config): ReadonlyMap<string, readonly Route[]> {
  const table = new Map<string, Route[]>();
  for (const queue of QUEUE_NAMES) {
    const declared: QueueDeclaration = QUEUES[queue];
    const route: Route = {
      queue,
      delayMs: declared.delayMs?.(config) ?? 0,
      onlyIf: declared.onlyIf,
      batchSize: declared.batchSize?.(config),
    };
    for (const type of declared.receives) table.set(type, [...(table.get(type) ?? []), route]);
  }
  return table;
}
