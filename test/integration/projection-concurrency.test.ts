import { expect } from 'chai';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { startWorkers, type RunningWorkers } from '../../src/workers/worker-process.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * A projections worker runs PROJECTION_CONCURRENCY jobs at once (default 1). Every order_view
 * write lingers 0.5 s before its commit, one job per event (PROJECTION_BATCH_SIZE=1), and three
 * orders of three customers and products (so no lock key is shared): the most transactions seen
 * lingering at once is how many jobs the worker ran at once. The projections worker starts once
 * the relay has queued all three jobs: started before, it could take the first two before the
 * third was queued, and then took the third only when one of them finished (3 runs in 12).
 */
describe('Projections run PROJECTION_CONCURRENCY jobs at once per worker (PostgreSQL + Redis, real relay and projections worker)', function () {
  this.timeout(60_000);
  let service: TestService;
  let projections: RunningWorkers | undefined;
  afterEach(async () => {
    await projections?.stop();
    projections = undefined;
    await service.stop();
  });

  async function mostProjectingAtOnce(env: Record<string, string>): Promise<number> {
    service = await startTestService({
      api: false,
      roles: ['relay'],
      env: { PROJECTION_BATCH_SIZE: '1', ...env },
    });
    await rows(
      service.services,
      `create function linger() returns trigger language plpgsql as $$ begin perform pg_sleep(0.5); return null; end $$;
       create trigger linger after insert on order_view for each row execute function linger()`,
    );
    const products = [];
    for (let i = 0; i < 3; i++) products.push(await createProduct(service.services, 'acme', { sku: `SKU-${i}` }));
    await Promise.all(
      products.map((productId, i) =>
        service.services.commands.placeOrder.handle(principal(`c${i}`, 'acme', ['customer'], { name: `c${i}` }), {
          lines: [{ productId, quantity: 1 }],
        }),
      ),
    );
    // Every event published (its row is marked in the transaction that commits after its job was
    // added): counting waiting jobs would also count the products' and profiles' jobs.
    const unpublished = async () =>
      (
        (await rows(service.services, 'select count(*)::int as n from outbox_events where published_at is null')) as Array<{
          n: number;
        }>
      )[0]!.n;
    while ((await unpublished()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    projections = startWorkers(service.services, ['projections']);
    let most = 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [counts] = (await rows(
        service.services,
        `select (select count(*)::int from pg_stat_activity where wait_event = 'PgSleep') as lingering,
                (select count(*)::int from order_view) as projected`,
      )) as Array<{ lingering: number; projected: number }>;
      const { lingering, projected } = counts!;
      most = Math.max(most, lingering);
      if (projected === 3) return most;
      if (Date.now() > deadline) throw new Error(`only ${projected} of 3 orders projected after 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('When nothing is set, then a worker projects one job at a time (its jobs spend no Redis round trip looking for a next one)', async () => {
    expect(await mostProjectingAtOnce({})).to.equal(1);
  });

  it('When PROJECTION_CONCURRENCY is 3, then three jobs of unrelated customers project at once', async () => {
    expect(await mostProjectingAtOnce({ PROJECTION_CONCURRENCY: '3' })).to.equal(3);
  });
});
