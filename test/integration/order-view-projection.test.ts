import { expect } from 'chai';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import { Product } from '../../src/commands/products/product.entity.js';
import { newId } from '../../src/platform/ids.js';
import { rows, storedEvent } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

const now = new Date('2026-11-26T10:00:00Z');

function orderStory() {
  const { product } = Product.create({
    id: newId(),
    tenantId: 'acme',
    sku: 'S',
    name: 'Mug',
    priceCents: 500,
    currency: 'EUR',
    now,
  });
  const customer = Object.assign(new Customer(), {
    tenantId: 'acme',
    id: 'ada',
    name: 'Ada',
    email: 'ada@example.com',
    version: 1,
  });
  const { order, event: placed } = Order.place({
    id: newId(),
    customer,
    requested: [{ productId: product.id, quantity: 2 }],
    catalogue: new Map([[product.id, product]]),
    now,
  });
  const paid = order.pay('auth-1', new Date('2026-11-26T10:01:00Z'));
  const renamed = customer.changeProfile({ name: 'Ada King', email: 'ada@king.example' }, now);
  return {
    order,
    placed: storedEvent(placed, 'acme', now),
    paid: storedEvent(paid, 'acme', now),
    renamed: storedEvent(renamed, 'acme', now),
  };
}

describe('order_view projection (PostgreSQL)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(() => service.stop());

  const view = async (id: string) => (await rows(service.services, 'select * from order_view where id = ?', [id]))[0];

  it('When an event is delivered twice, then the second delivery changes nothing and is recorded once', async () => {
    const { order, placed } = orderStory();
    expect(await service.services.projector.project(placed)).to.include('order_view');
    const first = await view(order.id);

    expect(await service.services.projector.project(placed)).to.deep.equal([]);

    expect(await view(order.id)).to.deep.equal(first);
    const inbox = await rows(service.services, 'select consumer from processed_events where event_id = ? order by consumer', [
      placed.id,
    ]);
    expect(inbox).to.deep.equal([{ consumer: 'customer_summary' }, { consumer: 'order_view' }]);
  });

  it('When OrderPaid arrives before OrderPlaced, then the view still ends paid with the customer and lines of the order', async () => {
    const { order, placed, paid } = orderStory();

    await service.services.projector.project(paid);
    await service.services.projector.project(placed);

    const row = await view(order.id);
    expect(row).to.include({ status: 'paid', version: 2, customer_name: 'Ada', total_cents: '1000' });
    expect((row!.status_history as { status: string }[]).map((change) => change.status)).to.deep.equal(['placed', 'paid']);
  });

  it('When a customer renames themself, then their orders follow, whichever of the events comes first', async () => {
    const early = orderStory();
    await service.services.projector.project(early.renamed);
    await service.services.projector.project(early.placed);
    expect(await view(early.order.id)).to.include({ customer_name: 'Ada King', customer_email: 'ada@king.example' });

    const late = orderStory();
    await rows(service.services, 'delete from customer_profile_view');
    await service.services.projector.project(late.placed);
    await service.services.projector.project(late.renamed);
    expect(await view(late.order.id)).to.include({ customer_name: 'Ada King', customer_version: 2 });
  });

  it('When a projection fails half-way, then neither its change nor its inbox record is kept, so a retry applies it', async () => {
    const { order, placed } = orderStory();
    await rows(service.services, 'alter table order_view add constraint no_mugs check (total_cents < 0)');

    const failure = await service.services.projector.project(placed).catch((error: Error) => error);
    expect(failure).to.be.instanceOf(Error);
    expect(await rows(service.services, 'select 1 from processed_events')).to.have.length(0);

    await rows(service.services, 'alter table order_view drop constraint no_mugs');
    expect(await service.services.projector.project(placed)).to.include('order_view');
    expect(await view(order.id)).to.include({ status: 'placed' });
  });
});
