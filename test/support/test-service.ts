import { startApiServer, type RunningApi } from '../../src/api/api-server.js';
import { compose, type Overrides, type Services } from '../../src/composition-root.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { withDatabase } from '../../src/platform/db/database-admin.js';
import { migrateUp } from '../../src/platform/db/orm.js';
import { createLogger } from '../../src/platform/logger.js';
import type { QueueSet } from '../../src/workers/queue-set.js';
import { startWorkers, type RunningWorkers } from '../../src/workers/worker-process.js';
import { dropTestData, provisionDatabase, uniqueId } from './database.js';
import { infrastructure } from './infrastructure.js';

/** A database and a queue prefix of this suite's own, and a config pointing at them. */
export interface TestEnvironment {
  config: Config;
  /** Drops the database and deletes every Redis key under the queue prefix. */
  destroy(): Promise<void>;
}

export async function createTestEnvironment(
  overrides: Record<string, string> = {},
  { migrate = false } = {},
): Promise<TestEnvironment> {
  const { databaseUrl, redisUrl } = await infrastructure();
  const id = uniqueId();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: withDatabase(databaseUrl, `test_${id}`),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `{test-${id}}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    LOG_FORMAT: 'json',
    RELAY_POLL_INTERVAL: '200ms',
    CONSISTENCY_WAIT_MAX: '5s',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  });
  await provisionDatabase(config.DATABASE_URL, { migrate });
  return {
    config,
    destroy: () => dropTestData(config.DATABASE_URL, config.REDIS_URL, config.QUEUE_PREFIX),
  };
}

export interface TestService {
  /** With the queues opened (as a worker process has them). */
  services: Services & QueueSet;
  config: Config;
  api: RunningApi | undefined;
  workers: RunningWorkers | undefined;
  url: string;
  stop(): Promise<void>;
}

/**
 * The real service in-process on its own database and queue prefix: composition root,
 * migrations, the API on a free port and the requested worker roles.
 */
export async function startTestService(
  options: { roles?: string[]; api?: boolean; env?: Record<string, string>; overrides?: Overrides } = {},
): Promise<TestService> {
  const environment = await createTestEnvironment(options.env);
  const { config } = environment;
  const logger = createLogger({ level: config.LOG_LEVEL, format: 'json', service: 'test' });
  const composed = await compose(config, { logger, ...options.overrides });
  const services = { ...composed, ...(await composed.queueSet()) };
  await migrateUp(services.orm);
  const api = options.api === false ? undefined : await startApiServer(services, 0);
  const workers = options.roles?.length ? startWorkers(services, options.roles) : undefined;
  return {
    services,
    config,
    api,
    workers,
    url: api?.url ?? '',
    async stop() {
      await api?.stop();
      await workers?.stop();
      await services.close();
      await environment.destroy();
    },
  };
}
