import type { Tracer } from '@opentelemetry/api';
import type { Queue } from 'bullmq';
import { commandEntities, createCommands, type Commands } from './commands/index.js';
import { CommandFailures } from './commands/shared/command-failures.js';
import { IdempotencyStore } from './commands/shared/idempotency.js';
import { systemClock, type Clock } from './platform/clock.js';
import { orderPageCacheBytes, redisTarget, type Config } from './platform/config.js';
import { Notifier } from './platform/db/notifier.js';
import { connectOrm, type Orm } from './platform/db/orm.js';
import { OUTBOX_CHANNEL } from './events/event-log.js';
import { ConnectionWarnings } from './platform/connection-warnings.js';
import { unreachableMessage } from './platform/dependencies.js';
import { createLogger, type Logger } from './platform/logger.js';
import { Metrics } from './platform/metrics.js';
import { Observer } from './platform/observe.js';
import { openQueue, QueueConnections } from './platform/queues.js';
import { describeRedis, openRedis, type RedisClient } from './platform/redis.js';
import { SecretBox } from './platform/secret-box.js';
import { createReadSide, queryEntities, type Queries } from './queries/index.js';
import type { OrderViewCache } from './queries/order-view/order-view.cache.js';
import type { Projections } from './queries/read-models.js';
import type { ProjectionRebuilds } from './queries/shared/projection-rebuilds.js';
import type { Projector } from './queries/shared/projector.js';
import type { DeadLetter } from './workers/consumer.js';
import { observeSystem } from './workers/observed-state.js';
import { FakePaymentGateway } from './workers/payments/fake-payment-gateway.js';
import type { PaymentGateway } from './workers/payments/payment-gateway.js';
import { QueueOperations } from './workers/queue-operations.js';
import { QUEUE_NAMES, deadLetterQueueOf, jobOptionsFor, type QueueName } from './workers/queues.js';

/** Adapters a test (or another deployment) may swap; everything else is built from config. */
export interface Overrides {
  /** The `process` label of this process's metrics: `api`, `worker:relay+projections`, `local`. */
  processName?: string;
  clock?: Clock;
  logger?: Logger;
  /** Where the spans of commands, queries and jobs go (default: the global OpenTelemetry tracer). */
  tracer?: Tracer;
  paymentGateway?: PaymentGateway;
}

export interface Services {
  config: Config;
  logger: Logger;
  clock: Clock;
  orm: Orm;
  commands: Commands;
  queries: Queries;
  projections: Projections;
  projector: Projector;
  /** The API's single order reads, kept in process (src/queries/order-view/order-view.cache.ts). */
  orderCache: OrderViewCache;
  /** Repeated connection trouble, one line per dependency per CONNECTION_WARNING_INTERVAL. */
  connectionWarnings: ConnectionWarnings;
  /** A fail-fast Redis (or Redis Cluster) client for caches and rate limits (never needed by the write path). */
  redis: RedisClient;
  /** The Redis connections of BullMQ queues and workers (shared clients on a cluster; closed by close()). */
  queueConnections: QueueConnections;
  paymentGateway: PaymentGateway;
  commandFailures: CommandFailures;
  /** Idempotency-Key records; the relay role purges expired ones hourly. */
  idempotencyKeys: IdempotencyStore;
  /** Seals secrets at rest (webhook signing secrets, idempotent replies) with SECRET_ENCRYPTION_KEYS. */
  secrets: SecretBox;
  metrics: Metrics;
  /** Wraps commands, queries and job processors with a span, metrics and a log line. */
  observer: Observer;
  queueOperations: QueueOperations;
  rebuilds: ProjectionRebuilds;
  queues: ReadonlyMap<QueueName, Queue>;
  deadLetterQueues: ReadonlyMap<QueueName, Queue<DeadLetter>>;
  close(): Promise<void>;
}

/**
 * The composition root: the one place that builds real dependencies and wires them together.
 * The API, the workers and the tests all start here.
 */
export async function compose(config: Config, overrides: Overrides = {}): Promise<Services> {
  const logger =
    overrides.logger ?? createLogger({ level: config.LOG_LEVEL, format: config.logFormat, service: config.SERVICE_NAME });
  const clock = overrides.clock ?? systemClock;
  const orm = await connectOrm({
    databaseUrl: config.DATABASE_URL,
    readUrl: config.DATABASE_READ_URL,
    poolMax: config.DATABASE_POOL_MAX,
    acquireTimeoutMs: config.DATABASE_POOL_ACQUIRE_TIMEOUT,
    entities: [...commandEntities, ...queryEntities],
    logger,
  });
  const redisAt = redisTarget(config);
  const queueConnections = new QueueConnections(redisAt);
  const queueSettings = { connections: queueConnections, prefix: config.QUEUE_PREFIX };
  const queues = new Map(QUEUE_NAMES.map((name) => [name, openQueue(name, queueSettings, jobOptionsFor(name, config))]));
  const deadLetterQueues = new Map(
    QUEUE_NAMES.map((name) => [name, openQueue<DeadLetter>(deadLetterQueueOf(name), queueSettings)]),
  );
  const redis = openRedis(redisAt, 'producer', { shared: true });
  const connectionWarnings = new ConnectionWarnings(logger, config.CONNECTION_WARNING_INTERVAL);
  redis.on('error', (error: unknown) =>
    connectionWarnings.warn('Redis', unreachableMessage('Redis', describeRedis(redisAt), error)),
  );
  const secrets = new SecretBox(config.secretKeys);
  const idempotencyKeys = new IdempotencyStore(orm, config.IDEMPOTENCY_RETENTION, secrets);
  const metrics = new Metrics({ service: config.SERVICE_NAME, process: overrides.processName ?? 'service' }, logger);
  const observer = new Observer(metrics, logger, overrides.tracer);
  // NOTIFY after commits, to the primary (replicas do not relay them): the relay's wake-ups, the order cache's changes.
  const notifier = new Notifier({ databaseUrl: config.DATABASE_URL }, logger);
  const readSide = createReadSide(orm, redis, observer, logger, notifier, {
    consistencyWaitMs: config.CONSISTENCY_WAIT_MAX,
    redisPrefix: config.QUEUE_PREFIX,
    orderCache: {
      databaseUrl: config.DATABASE_URL,
      size: config.ORDER_CACHE_SIZE,
      pageBytes: orderPageCacheBytes(config),
      ttlMs: config.ORDER_CACHE_TTL,
    },
  });
  for (const queue of [...queues.values(), ...deadLetterQueues.values()]) {
    queue.on('error', (error) => logger.debug('queue connection problem', { queue: queue.name, error: error.message }));
  }

  observeSystem(metrics, { orm, redis, queues, deadLetterQueues });
  return {
    config,
    logger,
    clock,
    orm,
    idempotencyKeys,
    secrets,
    commands: createCommands(orm, clock, idempotencyKeys, observer, {
      webhookAllowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
      secrets,
      wakeRelay: () => notifier.notify(OUTBOX_CHANNEL),
    }),
    ...readSide,
    connectionWarnings,
    redis,
    queueConnections,
    commandFailures: new CommandFailures(orm),
    metrics,
    observer,
    queueOperations: new QueueOperations(queues, deadLetterQueues, redis),
    // The only adapter shipped; config refuses to start production unless PAYMENT_GATEWAY names it.
    paymentGateway:
      overrides.paymentGateway ??
      new FakePaymentGateway({
        latencyMs: config.PAYMENT_LATENCY,
        declineAboveCents: config.PAYMENT_DECLINE_ABOVE_CENTS,
        failureRate: config.PAYMENT_FAILURE_RATE,
      }),
    queues,
    deadLetterQueues,
    async close() {
      // allSettled: closing must not fail (or hang shutdown) because Redis is down.
      await Promise.allSettled([...queues.values(), ...deadLetterQueues.values()].map((queue) => queue.close()));
      queueConnections.close();
      redis.disconnect();
      await readSide.orderCache.close();
      await notifier.close();
      await orm.close(true);
    },
  };
}
