import { expect } from 'chai';
import type { TestService } from '../support/test-service.js';
import { startTestService } from '../support/test-service.js';
import { createProduct, principal, rows } from '../support/fixtures.js';

describe('Command transaction (PostgreSQL)', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false });
  });
  after(() => service.stop());

  const ada = principal('ada', 'acme', ['customer'], { name: 'Ada', email: 'ada@example.com' });

  it('When an order is placed, then the order, its outbox events and the command record are written together', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 700 });

    const accepted = await service.services.commands.placeOrder.handle(ada, { lines: [{ productId, quantity: 3 }] });

    const [order] = await rows(service.services, 'select * from orders where id = ?', [accepted.aggregateId]);
    const events = await rows(
      service.services,
      'select type, aggregate_id, command_id, published_at from outbox_events where command_id = ? order by position',
      [accepted.commandId],
    );
    const [command] = await rows(service.services, 'select * from command_log where id = ?', [accepted.commandId]);
    expect(order).to.include({ tenant_id: 'acme', customer_id: 'ada', total_cents: '2100', status: 'placed' });
    expect(events.map((event) => event.type)).to.deep.equal(['CustomerProfileChanged', 'OrderPlaced']);
    expect(events.every((event) => event.published_at === null)).to.equal(true);
    expect(command).to.include({
      type: 'PlaceOrder',
      status: 'accepted',
      aggregate_type: 'Order',
      aggregate_id: accepted.aggregateId,
      principal_id: 'ada',
    });
  });

  it('When the transaction fails after the order was written, then order, outbox rows, command record and new customer all roll back', async () => {
    const productId = await createProduct(service.services, 'acme');
    const newcomer = principal('newcomer', 'acme', ['customer']);
    const before = await counts();

    const failure = await service.services.commands.placeOrder
      .handle(
        newcomer,
        { lines: [{ productId, quantity: 1 }] },
        {
          beforeCommit: async () => {
            throw new Error('simulated failure at commit time');
          },
        },
      )
      .catch((error: Error) => error);

    expect(failure).to.be.instanceOf(Error).with.property('message', 'simulated failure at commit time');
    expect(await counts()).to.deep.equal(before);
    expect(await rows(service.services, "select 1 from customers where id = 'newcomer'")).to.have.length(0);
  });

  async function counts() {
    const [row] = await rows(
      service.services,
      'select (select count(*) from orders) as orders, (select count(*) from outbox_events) as events, (select count(*) from command_log) as commands',
    );
    return row;
  }
});
