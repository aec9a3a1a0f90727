import { expect } from 'chai';
import type { TestService } from '../support/test-service.js';
import { startTestService } from '../support/test-service.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { statementsDuring, withoutPrepares } from '../support/statements.js';

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

  it('When a known customer places an order, then no transaction is opened: one read, then one statement writes the order, its event and the command record', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 500 });
    const regular = principal('regular', 'acme', ['customer'], { name: 'Reg' });
    await service.services.commands.placeOrder.handle(regular, { lines: [{ productId, quantity: 1 }] });

    let accepted: { commandId: string; aggregateId: string } | undefined;
    const statements = await statementsDuring(async () => {
      accepted = await service.services.commands.placeOrder.handle(regular, { lines: [{ productId, quantity: 2 }] });
    });

    // No connection is held between the two round trips (nothing is begun, nothing is committed).
    expect(withoutPrepares(statements).map((sql) => sql.trim().split(/\s+/)[0]!.toLowerCase())).to.deep.equal([
      'select',
      'execute',
    ]);
    const [order] = await rows(service.services, 'select * from orders where id = ?', [accepted!.aggregateId]);
    expect(order).to.include({ customer_id: 'regular', total_cents: '1000', status: 'placed' });
    const events = await rows(service.services, 'select type from outbox_events where command_id = ?', [accepted!.commandId]);
    expect(events).to.deep.equal([{ type: 'OrderPlaced' }]);
    expect(await rows(service.services, 'select status from command_log where id = ?', [accepted!.commandId])).to.deep.equal([
      { status: 'accepted' },
    ]);
  });

  it('When a customer places their first order, then their profile and the order are written in one transaction', async () => {
    const productId = await createProduct(service.services, 'acme');
    const first = principal('first-timer', 'acme', ['customer'], { name: 'First' });

    const statements = await statementsDuring(() =>
      service.services.commands.placeOrder.handle(first, { lines: [{ productId, quantity: 1 }] }),
    );

    const opened = statements.findIndex((sql) => /^\s*begin/i.test(sql));
    const created = statements.findIndex((sql) => /insert into customers/i.test(sql));
    expect(opened, statements.join('\n')).to.be.at.least(0);
    expect(created).to.be.above(opened);
    expect(statements.at(-1)).to.match(/^\s*commit/i);
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
