import { UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import { eventFromLogRow, type EventLogRow } from '../../src/events/event-log.js';
import type { DomainEvent } from '../../src/events/index.js';
import { NewerSchemaVersionError, SCHEMA_VERSIONS, upcast } from '../../src/events/upcasting.js';
import { newId } from '../../src/platform/ids.js';
import { eventFromJob } from '../../src/workers/job-envelope.js';
import { rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/** An OrderCancelled as v1 wrote it: no authorizationId in the payload. */
function cancelledV1(orderId: string) {
  const at = new Date().toISOString();
  return {
    id: newId(),
    tenantId: 'acme',
    type: 'OrderCancelled',
    schemaVersion: 1,
    aggregateType: 'Order',
    aggregateId: orderId,
    aggregateVersion: 3,
    payload: {
      refundedCents: 900,
      order: {
        orderId,
        customerId: 'old-timer',
        lines: [],
        totalCents: 900,
        currency: 'EUR',
        status: 'cancelled',
        statusHistory: [
          { status: 'placed', at },
          { status: 'paid', at },
          { status: 'cancelled', at },
        ],
        internalNote: null,
        riskScore: null,
        placedAt: at,
        updatedAt: at,
      },
    },
    occurredAt: at,
  };
}

describe("Event versions: old events are read in today's shape (upcasting from the log and from jobs)", function () {
  this.timeout(30_000);
  let service: TestService;

  before(async () => {
    service = await startTestService({ api: false });
  });
  after(() => service.stop());

  it('When a v1 OrderCancelled is read back from the event log, then the v2 reader gets it upcast (authorizationId: null)', async () => {
    expect(SCHEMA_VERSIONS.OrderCancelled).to.equal(2);
    const v1 = cancelledV1(newId());
    await rows(
      service.services,
      `insert into outbox_events (id, tenant_id, type, schema_version, aggregate_type, aggregate_id, aggregate_version,
         payload, occurred_at, published_at) values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, now())`,
      [
        v1.id,
        v1.tenantId,
        v1.type,
        1,
        v1.aggregateType,
        v1.aggregateId,
        v1.aggregateVersion,
        JSON.stringify(v1.payload),
        v1.occurredAt,
      ],
    );
    const [row] = await rows<EventLogRow>(service.services, 'select * from outbox_events where id = ?', [v1.id]);

    const event = eventFromLogRow(row!);

    expect(event.schemaVersion).to.equal(2);
    expect(event.payload).to.deep.include({ refundedCents: 900, authorizationId: null });
  });

  it('When a rebuild replays a log holding v1 events, then the read model applies them (through the same upcasting read)', async () => {
    await service.services.rebuilds.run('customer_summary');

    const [summary] = await rows<{ count_by_status: Record<string, number>; lifetime_value: Record<string, number> }>(
      service.services,
      "select count_by_status, lifetime_value from customer_summary where customer_id = 'old-timer'",
    );
    expect(summary!.count_by_status).to.deep.include({ cancelled: 1 });
    expect(summary!.lifetime_value).to.deep.equal({ EUR: -900 });
  });

  it('When a v1 event arrives as job data (queued before a deploy), then the process gets it upcast', () => {
    const event = eventFromJob({ ...cancelledV1(newId()), position: '1', commandId: null, traceContext: null });

    expect(event.schemaVersion).to.equal(2);
    expect(event.payload).to.deep.include({ authorizationId: null });
  });

  it('When an event is already current, then it passes through as the same object; a newer version is refused for a retry', () => {
    const current = {
      ...cancelledV1('o'),
      schemaVersion: 2,
      position: '1',
      commandId: null,
      traceContext: null,
    } as unknown as DomainEvent;

    expect(upcast(current)).to.equal(current);
    const newer = () => eventFromJob({ ...current, schemaVersion: 3 });
    expect(newer).to.throw(NewerSchemaVersionError);
    expect(newer).to.not.throw(UnrecoverableError);
  });
});
