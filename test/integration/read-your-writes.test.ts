import { expect } from 'chai';
import { newId } from '../../src/platform/ids.js';
import { customerSummaryProjection } from '../../src/queries/customer-summary/customer-summary.projection.js';
import { ReadYourWrites } from '../../src/queries/shared/consistency.js';
import { rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * `consistentWith` waits for the command's own events and for the events its aggregates had
 * before it: a read consistent with "cancel this paid order" must not show the cancellation
 * without the payment, although the two events' projection jobs may run in either order.
 */
describe('Read-your-writes: a command and the history it was decided on (PostgreSQL)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(() => service.stop());

  async function command(): Promise<string> {
    const id = newId();
    await rows(
      service.services,
      `insert into command_log (id, tenant_id, principal_id, type, status, aggregate_type, aggregate_id, created_at)
       values (?, 'acme', 'zoe', 'Test', 'accepted', 'Order', 'order-1', now())`,
      [id],
    );
    return id;
  }

  async function event(commandId: string, type: string, aggregateVersion: number, aggregateId = 'order-1'): Promise<string> {
    const id = newId();
    await rows(
      service.services,
      `insert into outbox_events (id, tenant_id, type, schema_version, aggregate_type, aggregate_id, aggregate_version,
         command_id, payload, occurred_at)
       values (?, 'acme', ?, 1, 'Order', ?, ?, ?, '{}', now())`,
      [id, type, aggregateId, aggregateVersion, commandId],
    );
    return id;
  }

  const processed = (eventId: string) =>
    rows(service.services, 'insert into processed_events (consumer, event_id) values (?, ?)', [
      customerSummaryProjection.name,
      eventId,
    ]);

  const freshness = (commandId: string) =>
    new ReadYourWrites(50).waitFor(service.services.orm.em.fork(), 'acme', commandId, customerSummaryProjection);

  it("When the command's event is projected but an earlier event of its aggregate is not, then the read is stale until it is", async () => {
    const pay = await command();
    const paid = await event(pay, 'OrderPaid', 2);
    const cancel = await command();
    const cancelled = await event(cancel, 'OrderCancelled', 3);
    await processed(cancelled);

    expect(await freshness(cancel), 'the payment is not in the summary yet').to.equal('stale');

    await processed(paid);
    expect(await freshness(cancel)).to.equal('fresh');
  });

  it('When later events of the aggregate or events of other aggregates are pending, then they do not hold the read back', async () => {
    const cancel = await command();
    await processed(await event(cancel, 'OrderCancelled', 3));
    await event(await command(), 'OrderShipped', 4);
    await event(await command(), 'OrderPaid', 1, 'order-2');

    expect(await freshness(cancel)).to.equal('fresh');
  });
});
