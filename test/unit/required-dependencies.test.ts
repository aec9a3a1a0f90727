import { expect } from 'chai';
import { systemClock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import { startConsumer, type ConsumerSettings } from '../../src/workers/consumer.js';
import { OutboxRelay, type RelaySettings } from '../../src/workers/relay/outbox-relay.js';

const logger = createLogger({ level: 'error', format: 'json', service: 'test' });

describe('Worker parts refuse to start without a dependency', () => {
  it('When the outbox relay is built without its queues, then it refuses at once, naming it', () => {
    const settings = {
      databaseUrl: 'postgres://nowhere/db',
      batchSize: 1,
      pollIntervalMs: 1,
      routes: new Map(),
      publishTimeoutMs: 1,
    };

    const build = () => new OutboxRelay(undefined as never, settings satisfies RelaySettings, systemClock, logger);

    expect(build).to.throw('the outbox relay needs queues');
  });

  it('When a consumer is started without its dead-letter queue or metrics, then it refuses before connecting, naming them', () => {
    const settings = {
      redisUrl: 'redis://nowhere',
      prefix: '{t}',
      concurrency: 1,
      lockDurationMs: 1000,
      observer: {},
      connectionWarnings: {},
    };

    const start = () =>
      startConsumer('projections', async () => undefined, undefined as never, settings as unknown as ConsumerSettings, logger);

    expect(start).to.throw('the projections consumer needs deadLetters, metrics');
  });
});
