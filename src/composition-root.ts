import type { Queue } from 'bullmq';
import { commandEntities, createCommands, type Commands } from './commands/index.js';
import { systemClock, type Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { connectOrm, type Orm } from './platform/db/orm.js';
import { createLogger, type Logger } from './platform/logger.js';
import { openQueue } from './platform/queues.js';
import { createProjector, createQueries, queryEntities, type Queries } from './queries/index.js';
import type { Projector } from './queries/shared/projector.js';
import { QUEUE_NAMES, deadLetterQueueOf, jobOptionsFor, type QueueName } from './workers/queues.js';
import type { DeadLetter } from './workers/consumer.js';

/** Adapters a test (or another deployment) may swap; everything else is built from config. */
export interface Overrides {
  clock?: Clock;
  logger?: Logger;
}

export interface Services {
  config: Config;
  logger: Logger;
  clock: Clock;
  orm: Orm;
  commands: Commands;
  queries: Queries;
  projector: Projector;
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
    entities: [...commandEntities, ...queryEntities],
    logger,
  });
  const queueSettings = { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX };
  const attempts = { payments: config.PAYMENT_ATTEMPTS, webhooks: config.WEBHOOK_ATTEMPTS };
  const queues = new Map(QUEUE_NAMES.map((name) => [name, openQueue(name, queueSettings, jobOptionsFor(name, attempts))]));
  const deadLetterQueues = new Map(
    QUEUE_NAMES.map((name) => [name, openQueue<DeadLetter>(deadLetterQueueOf(name), queueSettings)]),
  );
  for (const queue of [...queues.values(), ...deadLetterQueues.values()]) {
    queue.on('error', (error) => logger.debug('queue connection problem', { queue: queue.name, error: error.message }));
  }

  return {
    config,
    logger,
    clock,
    orm,
    commands: createCommands(orm, clock),
    queries: createQueries(orm, { consistencyWaitMs: config.CONSISTENCY_WAIT_MAX }),
    projector: createProjector(orm),
    queues,
    deadLetterQueues,
    async close() {
      // allSettled: closing must not fail (or hang shutdown) because Redis is down.
      await Promise.allSettled([...queues.values(), ...deadLetterQueues.values()].map((queue) => queue.close()));
      await orm.close(true);
    },
  };
}
