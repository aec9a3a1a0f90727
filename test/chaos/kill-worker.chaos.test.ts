import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { compose, type Services } from '../../src/composition-root.js';
import { migrateUp } from '../../src/platform/db/orm.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

/** A worker process (relay + projections) that says when it is ready. */
async function startWorker(environment: TestEnvironment): Promise<ChildProcess> {
  const { config } = environment;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/workers/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      WORKER_ROLES: 'relay,projections',
      WORKER_HTTP_PORT: '0',
      RELAY_BATCH_SIZE: '10',
      JOB_LOCK_DURATION: '2s',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve) => lines.on('line', (line) => line.includes('"worker ready"') && resolve()));
  return child;
}

describe('Chaos: a worker killed with SIGKILL in the middle of the stream', function () {
  this.timeout(90_000);
  let environment: TestEnvironment;
  let services: Services;

  before(async () => {
    environment = await createTestEnvironment();
    services = await compose(environment.config);
    await migrateUp(services.orm);
  });
  after(async () => {
    await services.close();
    await environment.destroy();
  });

  it('When the only worker dies mid-stream and another starts, then every order reaches the read models exactly once', async () => {
    const productId = await createProduct(services, 'acme', { priceCents: 100 });
    const first = await startWorker(environment);
    const orders = 300;

    // Commands keep coming while the worker is killed without warning half-way.
    const placing = (async () => {
      for (let i = 0; i < orders; i++) {
        await services.commands.placeOrder.handle(principal(`c${i % 10}`, 'acme', ['customer']), {
          lines: [{ productId, quantity: 1 }],
        });
      }
    })();
    await eventually(
      async () => {
        const [projected] = await rows<{ n: string }>(services, 'select count(*) as n from order_view');
        return Number(projected!.n) >= orders / 3;
      },
      30_000,
      'a third of the orders to be projected',
    );
    const killed = once(first, 'exit');
    first.kill('SIGKILL');
    await killed;
    await placing;

    const second = await startWorker(environment);
    try {
      // Jobs the dead worker held are released by BullMQ's stalled-job check and run again.
      await eventually(
        async () => {
          const [state] = await rows<{ views: string; counted: string }>(
            services,
            `select (select count(*) from order_view) as views,
                    (select count(*) from outbox_events o join processed_events p on p.event_id = o.id
                      where p.consumer = 'customer_summary' and o.type = 'OrderPlaced') as counted`,
          );
          return Number(state!.views) === orders && Number(state!.counted) === orders;
        },
        60_000,
        'every order projected after the restart',
      );

      const [summary] = await rows<{ orders: string }>(services, 'select sum(orders_count) as orders from customer_summary');
      const [inbox] = await rows<{ n: string; distinct_events: string }>(
        services,
        "select count(*) as n, count(distinct event_id) as distinct_events from processed_events where consumer = 'customer_summary'",
      );
      expect(Number(summary!.orders), 'counted once each, despite redelivery').to.equal(orders);
      expect(inbox!.n).to.equal(inbox!.distinct_events);
    } finally {
      const exited = once(second, 'exit');
      second.kill('SIGTERM');
      await exited;
    }
  });
});
