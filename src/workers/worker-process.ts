import type { Worker } from 'bullmq';
import type { Services } from '../composition-root.js';
import { WORKER_ROLE_NAMES, type WorkerRole } from '../platform/config.js';
import { startConsumer, type ConsumerSettings, type JobHandler } from './consumer.js';
import { expiryHandler } from './processes/expiry.worker.js';
import { paymentsHandler } from './processes/payments.worker.js';
import { projectionsHandler } from './processes/projections.worker.js';
import { webhooksHandler } from './processes/webhooks.worker.js';
import type { QueueName } from './queues.js';
import { OutboxRelay } from './relay/outbox-relay.js';

export interface RunningWorkers {
  roles: WorkerRole[];
  stop(): Promise<void>;
}

/** Which queue each consumer role drains, and with what handler. */
interface ConsumerRole {
  queue: QueueName;
  handler: JobHandler;
  onDeadLetter?: ConsumerSettings['onDeadLetter'];
}

function consumerRoles(services: Services): Partial<Record<WorkerRole, ConsumerRole>> {
  return {
    projections: {
      queue: 'projections',
      handler: projectionsHandler(services.projector, services.metrics),
      // A command whose events cannot be projected is reported failed, not left "accepted" forever.
      onDeadLetter: async (job, error) => {
        const commandId = (job.data as { commandId?: unknown } | null)?.commandId;
        if (typeof commandId === 'string') await services.commandFailures.record(commandId, error.message);
      },
    },
    payments: { queue: 'payments', handler: paymentsHandler(services.commands.recordPayment, services.paymentGateway) },
    expiry: { queue: 'order-expiry', handler: expiryHandler(services.commands.expireOrder) },
    webhooks: { queue: 'webhooks', handler: webhooksHandler(services) },
  };
}

export function resolveRoles(requested: readonly string[]): WorkerRole[] {
  return requested.includes('all') ? [...WORKER_ROLE_NAMES] : (requested as WorkerRole[]);
}

/**
 * Starts the requested roles in this process. `stop()` drains: the relay finishes its cycle,
 * consumers finish their active jobs (BullMQ `close()` waits for them), then connections close.
 */
export function startWorkers(services: Services, requested: readonly string[]): RunningWorkers {
  const roles = resolveRoles(requested);
  const { config, logger } = services;
  const settings = {
    redisUrl: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDurationMs: config.JOB_LOCK_DURATION,
    metrics: services.metrics,
  };

  const relay = roles.includes('relay')
    ? new OutboxRelay(
        services.orm,
        services.queues,
        {
          databaseUrl: config.DATABASE_URL,
          batchSize: config.RELAY_BATCH_SIZE,
          pollIntervalMs: config.RELAY_POLL_INTERVAL,
          orderPaymentTimeoutMs: config.ORDER_PAYMENT_TIMEOUT,
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

  const available = consumerRoles(services);
  const workers: Worker[] = roles.flatMap((role) => {
    const consumer = available[role];
    if (!consumer) return [];
    const consumerSettings = { ...settings, onDeadLetter: consumer.onDeadLetter };
    return [
      startConsumer(consumer.queue, consumer.handler, services.deadLetterQueues.get(consumer.queue)!, consumerSettings, logger),
    ];
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

async function purgeExpiredKeys(services: Services): Promise<void> {
  const purged = await services.idempotencyKeys.purgeExpired().catch(() => 0);
  if (purged) services.logger.info('purged expired idempotency keys', { purged });
}
