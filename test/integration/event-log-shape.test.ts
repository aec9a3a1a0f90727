import { expect } from 'chai';
import { EVENT_LOG_INSERT_COLUMNS, eventFromLogRow, type EventLogRow, type NewEventLogRow } from '../../src/events/event-log.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

// Every field of a new row is inserted: when one is not, this line fails to compile and names it.
const everyFieldInserted: Record<Exclude<keyof NewEventLogRow, (typeof EVENT_LOG_INSERT_COLUMNS)[number]>, never> = {};

describe('The event log row, described once (src/events/event-log.ts)', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false });
  });
  after(() => service.stop());

  it('When the migrations have run, then outbox_events has exactly the inserted columns plus position and published_at', async () => {
    const columns = await rows<{ column_name: string }>(
      service.services,
      "select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'outbox_events'",
    );

    expect(everyFieldInserted).to.deep.equal({});
    expect(columns.map((column) => column.column_name)).to.have.members([
      ...EVENT_LOG_INSERT_COLUMNS,
      'position',
      'published_at',
    ]);
  });

  it('When a command records events, then each row reads back through eventFromLogRow as the event the handler recorded', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 250 });
    const ada = principal('ada', 'acme', ['customer'], { name: 'Ada', email: 'ada@example.com' });

    const accepted = await service.services.commands.placeOrder.handle(ada, { lines: [{ productId, quantity: 2 }] });

    const logged = await rows<EventLogRow>(
      service.services,
      'select * from outbox_events where command_id = ? order by position',
      [accepted.commandId],
    );
    const placed = logged.map(eventFromLogRow).find((event) => event.type === 'OrderPlaced');
    if (placed?.type !== 'OrderPlaced') throw new Error('no OrderPlaced row in the log');
    expect(placed).to.deep.include({
      tenantId: 'acme',
      aggregateType: 'Order',
      aggregateId: accepted.aggregateId,
      commandId: accepted.commandId,
      traceContext: null,
    });
    expect(placed.payload.order).to.include({ orderId: accepted.aggregateId, totalCents: 500 });
    expect(placed.payload.customer).to.include({ name: 'Ada', email: 'ada@example.com' });
    expect(logged.every((row) => row.published_at === null)).to.equal(true);
  });
});
