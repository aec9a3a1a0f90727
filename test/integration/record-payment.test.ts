import { expect } from 'chai';
import type { RecordPayment } from '../../src/commands/orders/record-payment.handler.js';
import type { OrderSnapshot } from '../../src/events/index.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { statementsDuring, withoutPrepares } from '../support/statements.js';
import { startTestService, type TestService } from '../support/test-service.js';

interface OrderRow {
  status: string;
  version: number;
  authorization_id: string | null;
  status_history: Array<{ status: string }>;
  lines: unknown;
  total_cents: string;
  customer_id: string;
  placed_at: Date;
}

describe('Recording a payment answer (PostgreSQL): decided on the order as OrderPlaced left it', () => {
  let service: TestService;
  const ada = principal('ada', 'acme', ['customer'], { name: 'Ada' });

  before(async () => {
    service = await startTestService({ api: false });
  });
  after(() => service.stop());

  /** Places an order and returns the payment command as the payments process sends it (with its OrderPlaced). */
  async function placedOrder(authorizationId = 'auth-1'): Promise<RecordPayment> {
    const productId = await createProduct(service.services, 'acme', { priceCents: 1200 });
    const { aggregateId: orderId } = await service.services.commands.placeOrder.handle(ada, {
      lines: [{ productId, quantity: 3 }],
    });
    const [placed] = await rows<{ payload: { order: OrderSnapshot }; aggregate_version: number }>(
      service.services,
      "select payload, aggregate_version from outbox_events where type = 'OrderPlaced' and aggregate_id = ?",
      [orderId],
    );
    return {
      tenantId: 'acme',
      orderId,
      outcome: { approved: true, authorizationId },
      placed: { order: placed!.payload.order, version: placed!.aggregate_version },
    };
  }

  const orderRow = async (orderId: string) =>
    (await rows<OrderRow>(service.services, 'select * from orders where id = ?', [orderId]))[0]!;
  const eventsOf = (orderId: string) =>
    rows<{ type: string; aggregate_version: number; command_id: string }>(
      service.services,
      'select type, aggregate_version, command_id from outbox_events where aggregate_id = ? order by position',
      [orderId],
    );
  const paymentRecords = (orderId: string) =>
    rows<{ id: string; status: string }>(
      service.services,
      "select id, status from command_log where type = 'RecordPayment' and aggregate_id = ?",
      [orderId],
    );

  it('When the answer comes for an order still as placed, then the order is paid at the next version, with its event and command record, every other column as it was', async () => {
    const command = await placedOrder();
    const before = await orderRow(command.orderId);

    let recorded!: Awaited<ReturnType<typeof service.services.commands.recordPayment.handle>>;
    const statements = await statementsDuring(async () => {
      recorded = await service.services.commands.recordPayment.handle(command);
    });

    // One statement: no read of the order, no BEGIN/COMMIT.
    expect(withoutPrepares(statements)).to.have.length(1);
    expect(recorded).to.deep.include({ applied: true, wasPaid: true, aggregateId: command.orderId });
    const after = await orderRow(command.orderId);
    expect(after).to.deep.include({ status: 'paid', version: 2, authorization_id: 'auth-1' });
    expect(after.status_history.map((change) => change.status)).to.deep.equal(['placed', 'paid']);
    expect({ ...after, status: 0, version: 0, authorization_id: 0, status_history: 0, updated_at: 0 }).to.deep.equal({
      ...before,
      status: 0,
      version: 0,
      authorization_id: 0,
      status_history: 0,
      updated_at: 0,
    });
    const events = await eventsOf(command.orderId);
    expect(events.map((event) => [event.type, event.aggregate_version])).to.deep.equal([
      ['OrderPlaced', 1],
      ['OrderPaid', 2],
    ]);
    expect(await paymentRecords(command.orderId)).to.deep.equal([{ id: recorded.commandId, status: 'accepted' }]);
    expect(events[1]!.command_id).to.equal(recorded.commandId);
  });

  it('When the same answer is recorded again (a redelivered payment job), then the order is paid once: one OrderPaid, the repeat not applied', async () => {
    const command = await placedOrder();

    const first = await service.services.commands.recordPayment.handle(command);
    const again = await service.services.commands.recordPayment.handle(command);

    expect(first.applied).to.equal(true);
    expect(again).to.deep.include({ applied: false, wasPaid: true });
    expect((await orderRow(command.orderId)).version).to.equal(2);
    expect((await eventsOf(command.orderId)).map((event) => event.type)).to.deep.equal(['OrderPlaced', 'OrderPaid']);
  });

  it('When answers for one order are recorded at the same time, then exactly one applies', async () => {
    const command = await placedOrder();

    const results = await Promise.all([1, 2, 3, 4].map(() => service.services.commands.recordPayment.handle(command)));

    expect(results.filter((result) => result.applied)).to.have.length(1);
    expect((await eventsOf(command.orderId)).map((event) => event.type)).to.deep.equal(['OrderPlaced', 'OrderPaid']);
  });

  it('When the order was cancelled before the answer came, then the answer changes nothing and reports the order unpaid', async () => {
    const command = await placedOrder();
    await service.services.commands.cancelOrder.handle(ada, { orderId: command.orderId });

    const recorded = await service.services.commands.recordPayment.handle(command);

    expect(recorded).to.deep.include({ applied: false, wasPaid: false });
    const after = await orderRow(command.orderId);
    expect(after).to.deep.include({ status: 'cancelled', version: 2, authorization_id: null });
    expect((await eventsOf(command.orderId)).map((event) => event.type)).to.deep.equal(['OrderPlaced', 'OrderCancelled']);
  });
});
