import { expect } from 'chai';
import type { Job } from 'bullmq';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import type { ExpireOrderHandler } from '../../src/commands/orders/expire-order.handler.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import { newId } from '../../src/platform/ids.js';
import { expiryHandler } from '../../src/workers/processes/expiry.worker.js';
import { rows, storedEvent } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

const now = new Date('2026-11-26T10:00:00Z');

describe('Order expiry job (PostgreSQL)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(() => service.stop());

  /** An order stored as the command path stores it, and the OrderPlaced job its expiry gets. */
  async function placedOrder(): Promise<{ order: Order; job: Job }> {
    const customer = Object.assign(new Customer(), {
      tenantId: 'acme',
      id: newId(),
      name: 'Ada',
      email: 'a@x.example',
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    const productId = newId();
    const catalogue = new Map([[productId, { id: productId, name: 'Mug', priceCents: 500, currency: 'EUR', active: true }]]);
    const { order, event } = Order.place({
      id: newId(),
      customer,
      requested: [{ productId, quantity: 1 }],
      catalogue: catalogue as never,
      now,
    });
    Object.assign(order, { tenantId: 'acme' });
    await service.services.orm.em.fork().persist(customer).flush();
    await service.services.orm.em.fork().persist(order).flush();
    return { order, job: { data: storedEvent(event, 'acme', now) } as Job };
  }

  it('When the order was paid before its expiry is due, then the job leaves it alone without running the command; a placed one expires', async () => {
    const paid = await placedOrder();
    const placed = await placedOrder();
    await rows(service.services, `update orders set status = 'paid' where id = ?`, [paid.order.id]);
    const commands: string[] = [];
    const counting = {
      handle: (command: { orderId: string }) => {
        commands.push(command.orderId);
        return service.services.commands.expireOrder.handle(command as never);
      },
    } as unknown as ExpireOrderHandler;
    const expire = expiryHandler(counting, service.services.orm);

    expect(await expire(paid.job)).to.deep.equal({ expired: false });
    expect(await expire(placed.job)).to.deep.equal({ expired: true });

    expect(commands).to.deep.equal([placed.order.id]);
    const statuses = await rows(service.services, 'select id, status from orders order by status');
    expect(statuses).to.deep.equal([
      { id: placed.order.id, status: 'expired' },
      { id: paid.order.id, status: 'paid' },
    ]);
    const recorded = await rows(service.services, `select aggregate_id from command_log where type = 'ExpireOrder'`);
    expect(recorded).to.deep.equal([{ aggregate_id: placed.order.id }]);
  });
});
