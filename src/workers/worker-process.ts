import type { Queue, Worker } from 'bullmq';
import type { IdempotencyStore } from '../commands/shared/idempotency.js';
import type { ConnectionWarnings } from '../platform/connection-warnings.js';
import type { Logger } from '../platform/logger.js';
import type { Observer } from '../platform/observe.js';
import type { QueueConnections } from '../platform/queues.js';
import { startConsumer, type DeadLetter } from './consumer.js';
import { PROCESSES, type ProcessDependencies } from './processes.js';
import { concurrencyFor, maxStalledCountFor, QUEUE_NAMES, QUEUES, WORKER_ROLES, routingTable, type QueueName } from './queues.js';
import { OutboxRelay } from './relay/outbox-relay.js';

/**
 * What the worker roles use, named: the composition root provides it (the API and tests pass their
 * services), but nothing here imports the root. Each process takes its own part (src/workers/processes.ts).
 */
export interface WorkerDependencies extends ProcessDependencies {
  logger: Logger;
  observer: Observer;
  connectionWarnings: ConnectionWarnings;
  deadLetterQueues: ReadonlyMap<QueueName, Queue<DeadLetter>>;
  /** Where the workers' Redis connections come from (a shared client on a cluster). */
  queueConnections: QueueConnections;
  /** Purged hourly by the relay role. */
  idempotencyKeys: IdempotencyStore;
}

export interface RunningWorkers {
  roles: string[];
  stop(): Promise<void>;
}

/** `all` is every role; anything else must be a declared role (src/workers/queues.ts). */
export function resolveRoles(requested: readonly string[]): string[] {
  if (requested.includes('all')) return [...WORKER_ROLES];
  const unknown = requested.filter((role) => !WORKER_ROLES.includes(role));
  if (unknown.length) throw new Error(`unknown worker role ${unknown.join(', ')}; roles: ${WORKER_ROLES.join(', ')}, all`);
  return [...requested];
}

/**
 * Starts the requested roles in this process. `stop()` drains: the relay finishes its cycle,
 * consumers finish their active jobs (BullMQ `close()` waits for them), then connections close.
 */
export function startWorkers(services: WorkerDependencies, requested: readonly string[]): RunningWorkers {
  const roles = resolveRoles(requested);
  const { config, logger } = services;
  const settings = {
    connections: services.queueConnections,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDurationMs: config.JOB_LOCK_DURATION,
    metrics: services.metrics,
    observer: services.observer,
    connectionWarnings: services.connectionWarnings,
  };

  // Built first: a process missing a dependency stops the start before anything runs.
  const drained = QUEUE_NAMES.filter((queue) => roles.includes(QUEUES[queue].role));
  const processes = drained.map((queue) => ({ queue, process: PROCESSES[queue](services) }));

  const relay = roles.includes('relay')
    ? new OutboxRelay(
        services.queues,
        {
          databaseUrl: config.DATABASE_URL,
          batchSize: config.RELAY_BATCH_SIZE,
          pollIntervalMs: config.RELAY_POLL_INTERVAL,
          linger: { ms: config.RELAY_LINGER, abovePerSecond: config.RELAY_LINGER_ABOVE },
          routes: routingTable(config),
          publishTimeoutMs: config.RELAY_PUBLISH_TIMEOUT,
        },
        services.clock,
        logger,
      )
    : undefined;
  relay?.start();
  // Housekeeping rides on the relay role (always running, never scaled to zero).
  const purge = relay ? setInterval(() => void purgeExpiredKeys(services), 3_600_000) : undefined;
  purge?.unref();

  const workers: Worker[] = processes.map(({ queue, process }) => {
    const consumerSettings = {
      ...settings,
      concurrency: concurrencyFor(queue, config),
      maxStalledCount: maxStalledCountFor(queue, config),
      onDeadLetter: process.onDeadLetter,
    };
    return startConsumer(queue, process.handler, services.deadLetterQueues.get(queue)!, consumerSettings, logger);
  });
  logger.info('workers started', { roles });

  return {
    roles,
    async stop() {
      clearInterval(purge);
      await Promise.all([relay?.stop(), ...workers.map((worker) => closeWithin(worker, config.SHUTDOWN_TIMEOUT_MS))]);
      logger.info('workers stopped', { roles });
    },
  };
}

/**
 * Lets active jobs finish, up to `timeoutMs`; then closes anyway. Jobs still running are released:
 * their lock lapses and BullMQ's stalled-job check hands them to another worker.
 */
async function closeWithin(worker: Worker, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<'overrun'>((resolve) => (timer = setTimeout(() => resolve('overrun'), timeoutMs)));
  const outcome = await Promise.race([worker.close().then(() => 'closed' as const), overrun]);
  clearTimeout(timer);
  if (outcome === 'overrun') await worker.close(true);
}

/** Hourly on the relay role. A failure is logged and counted (cqrs_housekeeping_failures_total), never hidden. */
export async function purgeExpiredKeys(
  services: Pick<WorkerDependencies, 'idempotencyKeys' | 'logger' | 'metrics'>,
): Promise<void> {
  try {
    const purged = await services.idempotencyKeys.purgeExpired();
    if (purged) services.logger.info('purged expired idempotency keys', { purged });
  } catch (error) {
    services.metrics.housekeepingFailures.inc({ task: 'idempotency-purge' });
    services.logger.error('could not purge expired idempotency keys', { error: String(error) });
  }
}
