import type { Tracer } from '@opentelemetry/api';
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
import { describeRedis, openRedis, type RedisClient } from './platform/redis.js';
import { SecretBox } from './platform/secret-box.js';
import { createReadSide, queryEntities, type Queries } from './queries/index.js';
import type { OrderViewCache } from './queries/order-view/order-view.cache.js';
import type { Projections } from './queries/read-models.js';
import type { ProjectionRebuilds } from './queries/shared/projection-rebuilds.js';
import type { Projector } from './queries/shared/projector.js';
import { observeQueues, observeSystem } from './workers/observed-state.js';
import { FakePaymentGateway } from './workers/payments/fake-payment-gateway.js';
import type { PaymentGateway } from './workers/payments/payment-gateway.js';
import { QueueOperations } from './workers/queue-operations.js';
import type { QueueSet } from './workers/queue-set.js';

/** Adapters a test (or another deployment) may swap; everything else is built from config. */
export interface Overrides {
  /** The `process` label of this process's metrics: `api`, `worker:relay+projections`, `local`. */
  processName?: string;
  clock?: Clock;
  logger?: Logger;
  /** Where the spans of commands, queries and jobs go (default: the global OpenTelemetry tracer). */
  tracer?: Tracer;
  paymentGateway?: PaymentGateway;
  /**
   * When the BullMQ queues open: `at-start` (workers, `local`, tests: compose() opens them and the
   * process reports their gauges), or `on-first-use` (the API: only operators' endpoints use them,
   * so an API process neither loads BullMQ, about 7 MB of its heap, nor holds a Redis connection
   * per queue until an operator asks).
   */
  queues?: 'at-start' | 'on-first-use';
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
  /** The queues, their dead-letter queues and their connections, opened once (see Overrides.queues); closed by close(). */
  queueSet(): Promise<QueueSet>;
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
  // Imported here, not at the top: src/workers/queue-set.ts is what loads BullMQ.
  let queueSet: Promise<QueueSet> | undefined;
  const openQueues = () =>
    (queueSet ??= import('./workers/queue-set.js').then(({ openQueueSet }) => openQueueSet(config, logger)));

  observeSystem(metrics, { orm, redis });
  if ((overrides.queues ?? 'at-start') === 'at-start') observeQueues(metrics, await openQueues(), redis);
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
    commandFailures: new CommandFailures(orm),
    metrics,
    observer,
    queueOperations: new QueueOperations(openQueues, redis),
    // The only adapter shipped; config refuses to start production unless PAYMENT_GATEWAY names it.
    paymentGateway:
      overrides.paymentGateway ??
      new FakePaymentGateway({
        latencyMs: config.PAYMENT_LATENCY,
        declineAboveCents: config.PAYMENT_DECLINE_ABOVE_CENTS,
        failureRate: config.PAYMENT_FAILURE_RATE,
      }),
    queueSet: openQueues,
    async close() {
      if (queueSet) {
        const { closeQueueSet } = await import('./workers/queue-set.js');
        await closeQueueSet(await queueSet);
      }
      redis.disconnect();
      await readSide.orderCache.close();
      await notifier.close();
      await orm.close(true);
    },
  };
}
