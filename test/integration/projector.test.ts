import { expect } from 'chai';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import type { DomainEvent } from '../../src/events/index.js';
import { newId } from '../../src/platform/ids.js';
import { orderViewProjection } from '../../src/queries/order-view/order-view.projection.js';
import type { Projection } from '../../src/queries/shared/projection.js';
import { Projector } from '../../src/queries/shared/projector.js';
import { rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

const now = new Date('2026-11-26T10:00:00Z');

function placedEvent(): DomainEvent {
  const customer = Object.assign(new Customer(), { tenantId: 'acme', id: 'ada', name: 'Ada', email: 'a@x.example', version: 1 });
  const productId = newId();
  const catalogue = new Map([[productId, { id: productId, name: 'Mug', priceCents: 500, currency: 'EUR', active: true }]]);
  const { event } = Order.place({
    id: newId(),
    customer,
    requested: [{ productId, quantity: 1 }],
    catalogue: catalogue as never,
    now,
  });
  return {
    ...event,
    id: newId(),
    position: '0',
    tenantId: 'acme',
    commandId: null,
    occurredAt: now.toISOString(),
    traceContext: null,
  } as DomainEvent;
}

describe('Projector: every projection of an event in one transaction (PostgreSQL)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(() => service.stop());

  it('When one projection of an event fails, then no projection of it commits, and the redelivery applies each exactly once', async () => {
    let failures = 1;
    const flaky: Projection = {
      name: 'flaky',
      eventTypes: ['OrderPlaced'],
      tables: [],
      async apply(em) {
        await em.execute('select 1');
        if (failures-- > 0) throw new Error('projection failed');
      },
    };
    const projector = new Projector(service.services.orm, [orderViewProjection, flaky]);
    const placed = placedEvent();

    const error = await projector.project(placed).catch((cause: Error) => cause);

    expect(error).to.be.instanceOf(Error);
    expect(await rows(service.services, 'select id from order_view')).to.deep.equal([]);
    expect(await rows(service.services, 'select consumer from processed_events')).to.deep.equal([]);

    expect((await projector.project(placed)).sort()).to.deep.equal(['flaky', 'order_view']);
    expect(await projector.project(placed)).to.deep.equal([]);
    expect(await rows(service.services, 'select count(*)::int as n from order_view')).to.deep.equal([{ n: 1 }]);
    const inbox = await rows(service.services, 'select consumer from processed_events order by consumer');
    expect(inbox.map((row) => row.consumer)).to.deep.equal(['flaky', 'order_view']);
  });
});
