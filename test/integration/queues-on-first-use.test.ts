import { expect } from 'chai';
import { Redis } from 'ioredis';
import { compose, type Services } from '../../src/composition-root.js';
import { createLogger } from '../../src/platform/logger.js';
import { SYSTEM_GAUGES } from '../../src/workers/observed-state.js';
import { QUEUE_NAMES } from '../../src/workers/queues.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

/**
 * The API composes with `queues: 'on-first-use'` (src/api/server.ts): it serves commands and reads
 * without BullMQ, so it holds no queue connection and reports no queue gauge (the workers do)
 * until an operator asks about queues. On a single Redis server every queue and dead-letter queue
 * holds a connection of its own, which is what is counted here.
 */
describe('Queues opened on first use (the API process)', () => {
  const QUEUE_CONNECTIONS = QUEUE_NAMES.length * 2;
  let environment: TestEnvironment;
  let redis: Redis;
  let services: Services | undefined;
  const connectedClients = async () =>
    String(await redis.client('LIST'))
      .trim()
      .split('\n').length;

  beforeEach(async () => {
    environment = await createTestEnvironment({}, { migrate: true });
    redis = new Redis(environment.config.REDIS_URL);
  });
  afterEach(async () => {
    await services?.close();
    services = undefined;
    redis.disconnect();
    await environment.destroy();
  });

  it('When the API composes, then no queue connects and no queue gauge is reported until an operator lists the queues', async () => {
    // Arrange
    const logger = createLogger({ level: 'error', format: 'json', service: 'test' });
    const beforeCompose = await connectedClients();

    // Act
    services = await compose(environment.config, { logger, queues: 'on-first-use' });
    await services.metrics.registry.metrics();
    const composed = await connectedClients();
    const overview = await services.queueOperations.overview();
    const listed = await connectedClients();

    // Assert
    expect(services.metrics.registry.getSingleMetric(SYSTEM_GAUGES.outboxBacklog)).to.not.equal(undefined);
    for (const gauge of [SYSTEM_GAUGES.queueJobs, SYSTEM_GAUGES.queueBacklog, SYSTEM_GAUGES.queueOldestWaiting])
      expect(services.metrics.registry.getSingleMetric(gauge), gauge).to.equal(undefined);
    expect(composed - beforeCompose).to.be.lessThan(QUEUE_CONNECTIONS);
    expect(overview.map((queue) => queue.name)).to.deep.equal([...QUEUE_NAMES]);
    expect(listed - composed).to.be.at.least(QUEUE_CONNECTIONS);
  });

  it('When queues opened on first use and the services close, then their connections close too', async () => {
    // Arrange
    const logger = createLogger({ level: 'error', format: 'json', service: 'test' });
    const beforeCompose = await connectedClients();
    const opened = await compose(environment.config, { logger, queues: 'on-first-use' });
    await opened.queueOperations.redrive('projections');

    // Act
    await opened.close();

    // Assert
    expect(await connectedClients()).to.be.lessThan(beforeCompose + QUEUE_CONNECTIONS);
  });

  it('When a worker composes (the default), then its queues are open and their gauges reported from the start', async () => {
    // Arrange
    const logger = createLogger({ level: 'error', format: 'json', service: 'test' });
    const beforeCompose = await connectedClients();

    // Act
    services = await compose(environment.config, { logger });
    const { queues } = await services.queueSet();
    await Promise.all([...queues.values()].map((queue) => queue.waitUntilReady()));

    // Assert
    expect(services.metrics.registry.getSingleMetric(SYSTEM_GAUGES.queueBacklog)).to.not.equal(undefined);
    expect((await connectedClients()) - beforeCompose).to.be.at.least(QUEUE_CONNECTIONS);
  });
});
