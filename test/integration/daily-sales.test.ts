import { expect } from 'chai';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import { Product } from '../../src/commands/products/product.entity.js';
import { newId } from '../../src/platform/ids.js';
import { DAILY_SALES_SHARDS, dailySalesProjection } from '../../src/queries/daily-sales/daily-sales.projection.js';
import { Projector } from '../../src/queries/shared/projector.js';
import { principal, rows, storedEvent } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

const day = '2026-11-26';
const at = new Date(`${day}T10:00:00Z`);

/**
 * A paid order of the tenant's, as the projections worker receives its OrderPaid; with `shard`, an
 * order id that puts it in that daily_sales row.
 */
function paidOrder(priceCents: number, { customerId = 'ada', shard }: { customerId?: string; shard?: number } = {}) {
  const { product } = Product.create({
    id: newId(),
    tenantId: 'acme',
    sku: 'S',
    name: 'Mug',
    priceCents,
    currency: 'EUR',
    now: at,
  });
  const customer = Object.assign(new Customer(), {
    tenantId: 'acme',
    id: customerId,
    name: customerId,
    email: 'c@x.io',
    version: 1,
  });
  const id = newId();
  const { order } = Order.place({
    id: shard === undefined ? id : `${id.slice(0, -4)}${shard.toString(16).padStart(4, '0')}`,
    customer,
    requested: [{ productId: product.id, quantity: 1 }],
    catalogue: new Map([[product.id, product]]),
    now: at,
  });
  const paid = storedEvent(order.pay('auth', at), 'acme', at);
  return { paid };
}

describe('daily_sales: concurrent payments of one tenant (PostgreSQL)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(() => service.stop());

  const report = () =>
    service.services.queries.getDailySales
      .handle(principal('root', 'acme', ['admin']), { from: day, to: day })
      .then(({ items }) => items);

  it("When two customers' payments add to the same rows in opposite orders at once, then one waits for the other instead of deadlocking", async () => {
    const deadlocks: Error[] = [];
    const projector = new Projector(service.services.orm, [dailySalesProjection], (error) => deadlocks.push(error));
    // Each row's change lingers, so that both batches hold their first row when they ask for their second.
    await rows(
      service.services,
      `create function linger() returns trigger language plpgsql as $$ begin perform pg_sleep(0.2); return null; end $$;
       create trigger linger after insert or update on daily_sales for each row execute function linger()`,
    );
    const ada = [1, 2].map((shard) => paidOrder(100, { customerId: 'ada', shard }).paid);
    const bob = [2, 1].map((shard) => paidOrder(100, { customerId: 'bob', shard }).paid);

    await Promise.all([projector.projectAll(ada), projector.projectAll(bob)]);

    expect(deadlocks).to.deep.equal([]);
    expect((await report())[0]).to.include({ ordersCount: 4, revenueCents: 400 });
    expect(await rows(service.services, 'select shard, orders_count from daily_sales order by shard')).to.deep.equal([
      { shard: 1, orders_count: 2 },
      { shard: 2, orders_count: 2 },
    ]);
  });

  it('When many payments of one tenant are projected at once, then each counts once in the report, and they wrote several rows, not one', async () => {
    const orders = Array.from({ length: 40 }, (_, i) => paidOrder(100 + i));

    await Promise.all(orders.map(({ paid }) => service.services.projector.project(paid)));
    await Promise.all(orders.slice(0, 5).map(({ paid }) => service.services.projector.project(paid)));

    const revenue = orders.reduce((sum, _order, i) => sum + 100 + i, 0);
    expect(await report()).to.deep.equal([
      { day, currency: 'EUR', ordersCount: 40, revenueCents: revenue, refundsCount: 0, refundedCents: 0, netCents: revenue },
    ]);
    const [{ n }] = (await rows<{ n: number }>(service.services, 'select count(*)::int as n from daily_sales')) as [
      { n: number },
    ];
    expect(n).to.be.greaterThan(1).and.at.most(DAILY_SALES_SHARDS);
  });
});
