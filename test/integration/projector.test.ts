import { expect } from 'chai';
import type { DomainEvent } from '../../src/events/index.js';
import { orderViewProjection } from '../../src/queries/order-view/order-view.projection.js';
import { customerSummaryProjection } from '../../src/queries/customer-summary/customer-summary.projection.js';
import { sqlProjection, type Projection } from '../../src/queries/shared/projection.js';
import { Projector } from '../../src/queries/shared/projector.js';
import { customerOf, placedOrderEvent, rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

const now = new Date('2026-11-26T10:00:00Z');

const placedEvent = (): DomainEvent => placedOrderEvent(customerOf('ada', { name: 'Ada' }), now);

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

  it('When a step after the commit fails, then the retried delivery applies nothing again but runs that step again', async () => {
    const steps: string[] = [];
    let failures = 1;
    const cached: Projection = {
      ...sqlProjection({
        name: 'cached',
        eventTypes: ['OrderPlaced'],
        tables: [],
        statements: (event, when) => [{ sql: `select 1 where ${when}`, params: [] }],
      }),
      async afterCommit(event) {
        steps.push(event.id);
        if (failures-- > 0) throw new Error('the cache could not be told');
      },
    };
    const projector = new Projector(service.services.orm, [cached]);
    const placed = placedEvent();

    const error = await projector.project(placed).catch((cause: Error) => cause);
    const retried = await projector.project(placed);

    expect(error).to.be.instanceOf(Error);
    expect(retried).to.deep.equal([]);
    expect(steps).to.deep.equal([placed.id, placed.id]);
  });

  describe('in one statement (projections written as SQL)', () => {
    const summary = async () => rows<{ orders: number }>(service.services, 'select orders_count as orders from customer_summary');

    it('When an event is delivered again, or twice at once, then it is counted once and the later deliveries apply nothing', async () => {
      const projector = new Projector(service.services.orm, [orderViewProjection, customerSummaryProjection]);
      const placed = placedEvent();

      const concurrent = await Promise.all([projector.project(placed), projector.project(placed), projector.project(placed)]);
      const again = await projector.project(placed);

      expect(concurrent.map((applied) => applied.length).sort()).to.deep.equal([0, 0, 2]);
      expect(again).to.deep.equal([]);
      expect(await summary()).to.deep.equal([{ orders: 1 }]);
      expect(await rows(service.services, 'select count(*)::int as n from order_view')).to.deep.equal([{ n: 1 }]);
    });

    it('When one statement of an event fails, then no projection of it commits, and the redelivery applies each exactly once', async () => {
      let failures = 1;
      const flaky = sqlProjection({
        name: 'flaky',
        eventTypes: ['OrderPlaced'],
        tables: [],
        statements: (_event, when) => [
          {
            sql: `insert into daily_sales (tenant_id, day, currency, orders_count, revenue_cents, refunds_count, refunded_cents)
                  select 'acme', '2026-11-26', 'EUR', 1 / ?, 0, 0, 0 where ${when}`,
            params: [failures-- > 0 ? 0 : 1],
          },
        ],
      });
      const projector = new Projector(service.services.orm, [orderViewProjection, customerSummaryProjection, flaky]);
      const placed = placedEvent();

      const error = await projector.project(placed).catch((cause: Error) => cause);

      expect(error).to.be.instanceOf(Error);
      expect(await rows(service.services, 'select id from order_view')).to.deep.equal([]);
      expect(await summary()).to.deep.equal([]);
      expect(await rows(service.services, 'select consumer from processed_events')).to.deep.equal([]);
      expect((await projector.project(placed)).sort()).to.deep.equal(['customer_summary', 'flaky', 'order_view']);
      expect(await projector.project(placed)).to.deep.equal([]);
      expect(await summary()).to.deep.equal([{ orders: 1 }]);
    });

    it('When a projection has seen an event already and another has not, then only the other applies it', async () => {
      const placed = placedEvent();
      await new Projector(service.services.orm, [customerSummaryProjection]).project(placed);

      const applied = await new Projector(service.services.orm, [orderViewProjection, customerSummaryProjection]).project(placed);

      expect(applied).to.deep.equal(['order_view']);
      expect(await summary()).to.deep.equal([{ orders: 1 }]);
      expect(await rows(service.services, 'select count(*)::int as n from order_view')).to.deep.equal([{ n: 1 }]);
    });
  });
});
