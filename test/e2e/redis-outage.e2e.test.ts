import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { createProduct, rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { startRedis, stopRedis } from '../support/private-servers.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('Redis outage: the write path needs only PostgreSQL', function () {
  this.timeout(30_000);
  let redis: ChildProcess;
  let service: TestService;
  let PORT: number;

  before(async () => {
    PORT = await freePort();
    redis = await startRedis(PORT);
    service = await startTestService({
      roles: ['relay', 'projections'],
      env: { REDIS_URL: `redis://127.0.0.1:${PORT}`, RELAY_PUBLISH_TIMEOUT: '500ms' },
    });
  });
  after(async () => {
    if (redis.exitCode !== null || redis.signalCode !== null) redis = await startRedis(PORT);
    await service.stop();
    await stopRedis(redis);
  });

  it('When Redis goes down, then commands are still accepted and reads still answer; when it returns, the waiting events flow on', async () => {
    const productId = await createProduct(service.services, 'acme');
    const ada = tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
    await stopRedis(redis);

    const started = Date.now();
    const placed = await http(`${service.url}/v1/orders`, { token: ada, body: { lines: [{ productId, quantity: 1 }] } });
    const list = await http(`${service.url}/v1/orders`, { token: ada });
    const catalogue = await http(`${service.url}/v1/products`, { token: ada });
    const ready = await http(`${service.url}/health/ready`);

    expect(placed.status).to.equal(202);
    expect(list.status).to.equal(200);
    expect(catalogue.status).to.equal(200);
    expect(ready.status, 'Redis does not gate the API').to.equal(200);
    expect(ready.body.checks.redis).to.match(/unreachable/);
    expect(Date.now() - started, 'no request waited on Redis').to.be.below(3_000);
    const waiting = await rows(service.services, 'select published_at from outbox_events where command_id = ?', [
      placed.body.commandId,
    ]);
    expect(waiting.length).to.be.greaterThan(0);
    expect(
      waiting.every((event) => event.published_at === null),
      'the events wait in the outbox',
    ).to.equal(true);

    redis = await startRedis(PORT);
    const read = await eventually(
      async () => {
        const order = await http(`${service.url}/v1/orders/${placed.body.orderId}`, { token: ada });
        return order.status === 200 ? order : undefined;
      },
      20_000,
      'the order to be projected after Redis returned',
    );
    expect(read.body.status).to.equal('placed');
  });
});
