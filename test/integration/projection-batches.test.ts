import { expect } from 'chai';
import { eventFromLogRow, type EventLogRow } from '../../src/events/event-log.js';
import type { DomainEvent } from '../../src/events/index.js';
import { Projector } from '../../src/queries/shared/projector.js';
import { BATCH_JOB_NAME } from '../../src/workers/job-envelope.js';
import { routingTable } from '../../src/workers/queues.js';
import { OutboxRelay } from '../../src/workers/relay/outbox-relay.js';
import { carriedEvents } from '../support/carried-events.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { statementsDuring, withoutPrepares } from '../support/statements.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('Projection batches: many events, one transaction (PostgreSQL + Redis)', () => {
  let service: TestService;
  afterEach(() => service.stop());

  /** Places `count` orders for each customer (one product), then pays every `paid` one; returns the events, in log order. */
  async function story(customers: string[], count: number, { pay = true } = {}): Promise<DomainEvent[]> {
    const productId = await createProduct(service.services, 'acme');
    for (const customer of customers)
      for (let i = 0; i < count; i++) {
        const { aggregateId } = await service.services.commands.placeOrder.handle(
          principal(customer, 'acme', ['customer'], { name: customer }),
          { lines: [{ productId, quantity: 1 }] },
        );
        if (pay)
          await service.services.commands.recordPayment.handle({
            tenantId: 'acme',
            orderId: aggregateId,
            outcome: { approved: true, authorizationId: `auth-${aggregateId}` },
          });
      }
    return outboxEvents("type like 'Order%'");
  }

  async function outboxEvents(where: string): Promise<DomainEvent[]> {
    const log = await rows<EventLogRow>(service.services, `select * from outbox_events where ${where} order by position`);
    return log.map(eventFromLogRow);
  }

  const summaries = () =>
    rows<{ customer_id: string; orders_count: number }>(
      service.services,
      'select customer_id, orders_count from customer_summary order by customer_id',
    );
  const paidOrders = async () =>
    (await rows<{ n: number }>(service.services, "select count(*)::int as n from order_view where status = 'paid'"))[0]!.n;
  const dailySales = async () =>
    (await rows<{ n: number }>(service.services, 'select coalesce(sum(orders_count), 0)::int as n from daily_sales'))[0]!.n;

  describe('the projector', () => {
    beforeEach(async () => {
      service = await startTestService({ api: false });
    });

    it('When a batch of events is projected, then all of them commit in one transaction with their inbox rows', async () => {
      const events = await story(['ada', 'bob'], 3);
      expect(events).to.have.length(12);

      const sent = await statementsDuring(() => service.services.projector.projectAll(events));

      // One query: begin, the locks, one statement per event (its inbox rows and every projection), commit.
      const transactions = withoutPrepares(sent);
      expect(transactions).to.have.length(1);
      const parts = transactions[0]!.split(';\n').map((sql) => sql.trim().toLowerCase());
      expect(parts).to.have.length(events.length + 3);
      expect([parts[0], parts.at(-1)]).to.deep.equal(['begin', 'commit']);
      expect(await paidOrders()).to.equal(6);
      expect(await summaries()).to.deep.equal([
        { customer_id: 'ada', orders_count: 3 },
        { customer_id: 'bob', orders_count: 3 },
      ]);
      expect(await dailySales()).to.equal(6);
      const inbox = await rows<{ n: number }>(service.services, 'select count(*)::int as n from processed_events');
      // order_view and customer_summary follow every order event; daily_sales the 6 OrderPaid.
      expect(inbox[0]!.n).to.equal(12 * 2 + 6);
    });

    it('When an event comes again in a batch of another composition, then it is applied once', async () => {
      const events = await story(['ada'], 3);
      const projector = service.services.projector;

      const first = await projector.projectAll(events.slice(0, 4));
      const second = await projector.projectAll(events.slice(2));

      expect(first.map(({ applied }) => applied.length)).to.deep.equal([2, 3, 2, 3]);
      // The two events already applied change nothing; the rest apply.
      expect(second.map(({ applied }) => applied.length)).to.deep.equal([0, 0, 2, 3]);
      expect(await summaries()).to.deep.equal([{ customer_id: 'ada', orders_count: 3 }]);
      expect(await dailySales()).to.equal(3);
      expect(await paidOrders()).to.equal(3);
    });

    it('When concurrent batches touch the same rows in opposite orders, then none deadlocks and every event counts once', async () => {
      const events = await story(['ada', 'bob', 'cyd'], 4);
      const deadlocks: Error[] = [];
      const projector = new Projector(service.services.orm, Object.values(service.services.projections), (error) =>
        deadlocks.push(error),
      );
      // Each pair of batches takes the customers' summaries and the tenant's daily_sales row in opposite orders.
      const halves = [events.filter((_, i) => i % 2 === 0), events.filter((_, i) => i % 2 === 1)];
      const batches = halves.flatMap((half) => [half, [...half].reverse()]);

      await Promise.all(batches.map((batch) => projector.projectAll(batch)));

      expect(deadlocks).to.deep.equal([]);
      expect(await summaries()).to.deep.equal([
        { customer_id: 'ada', orders_count: 4 },
        { customer_id: 'bob', orders_count: 4 },
        { customer_id: 'cyd', orders_count: 4 },
      ]);
      expect(await dailySales()).to.equal(12);
    });
  });

  describe('the projections worker', () => {
    beforeEach(async () => {
      service = await startTestService({
        api: false,
        roles: ['projections'],
        env: { PROJECTION_ATTEMPTS: '2', PROJECTION_BATCH_SIZE: '50' },
      });
    });

    function relay() {
      const { config, clock, logger, queues } = service.services;
      return new OutboxRelay(
        queues,
        {
          databaseUrl: config.DATABASE_URL,
          batchSize: 100,
          pollIntervalMs: 1000,
          routes: routingTable(config),
          publishTimeoutMs: 5000,
        },
        clock,
        logger,
      );
    }

    it('When the relay dies after enqueueing a batch and publishes its events again in another batch, then each is applied once', async () => {
      await story(['ada'], 2, { pay: false });
      await rows(
        service.services,
        `create function refuse_publish() returns trigger language plpgsql as $$
           begin raise exception 'simulated crash before commit'; end $$;
         create trigger refuse_publish before update on outbox_events for each statement execute function refuse_publish()`,
      );
      const dying = relay();
      const crash = await dying.publishBatch().catch((error: Error) => error);
      await dying.stop();
      expect(crash).to.be.instanceOf(Error).with.property('message').that.includes('simulated crash');
      const firstBatch = (await outboxEvents('true')).length;
      // Another order commits before the rows are claimed again: the second batch holds the first's events and more.
      await story(['ada'], 1, { pay: false });
      await rows(service.services, 'drop trigger refuse_publish on outbox_events');
      const again = relay();
      await again.publishBatch();
      await again.stop();

      const projections = service.services.queues.get('projections')!;
      await eventually(
        async () => (await projections.getJobCountByTypes('waiting', 'active')) === 0,
        15_000,
        'both batches to be processed',
      );
      const jobs = await projections.getJobs(['completed']);
      expect(jobs.map((job) => job.name)).to.deep.equal([BATCH_JOB_NAME, BATCH_JOB_NAME]);
      const events = await outboxEvents('true');
      const carried = await carriedEvents(projections, ['completed']);
      // The first batch's events went out in both batches.
      expect(carried).to.have.length(events.length + firstBatch);
      expect(await summaries()).to.deep.equal([{ customer_id: 'ada', orders_count: 3 }]);
      expect(await rows(service.services, 'select count(*)::int as n from order_view')).to.deep.equal([{ n: 3 }]);
      const inbox = await rows(service.services, "select event_id from processed_events where consumer = 'customer_summary'");
      expect(inbox).to.have.length(events.filter((event) => event.type !== 'ProductCreated').length);
    });

    it('When one event of a batch keeps failing, then the others are applied and it alone is dead-lettered, redrivable', async () => {
      const events = await story(['ada', 'bob', 'cyd'], 1, { pay: false });
      const bad = events[1]!;
      const badOrder = (bad.payload as { order: { orderId: string } }).order.orderId;
      await rows(service.services, `alter table order_view add constraint refuse_one check (id <> '${badOrder}')`);
      const projections = service.services.queues.get('projections')!;

      const batch = await projections.add(BATCH_JOB_NAME, { events }, { jobId: 'batch-with-a-bad-event' });

      const deadLetters = service.services.deadLetterQueues.get('projections')!;
      const [letter] = await eventually(
        async () => {
          const letters = await deadLetters.getJobs(['waiting']);
          return letters.length ? letters : undefined;
        },
        15_000,
        'the bad event to be dead-lettered',
      );
      expect(letter!.data).to.include({ jobId: bad.id, name: 'OrderPlaced', attemptsMade: 2 });
      expect(letter!.data.failedReason).to.match(/refuse_one/);
      expect(await deadLetters.getJobCountByTypes('waiting', 'delayed', 'failed')).to.equal(1);
      expect((await projections.getJob(batch.id!))!.returnvalue).to.deep.include({
        applied: { order_view: 2, customer_summary: 2 },
      });
      expect((await projections.getJob(batch.id!))!.returnvalue.alone.map((event: { id: string }) => event.id)).to.deep.equal([
        bad.id,
      ]);
      expect(await summaries()).to.deep.equal([
        { customer_id: 'ada', orders_count: 1 },
        { customer_id: 'cyd', orders_count: 1 },
      ]);

      await rows(service.services, 'alter table order_view drop constraint refuse_one');
      await service.services.queueOperations.redrive('projections');
      await eventually(async () => (await summaries()).length === 3, 15_000, 'the redriven event to be applied');
      expect(await rows(service.services, 'select count(*)::int as n from order_view')).to.deep.equal([{ n: 3 }]);
      expect(await deadLetters.getJobCountByTypes('waiting', 'delayed', 'failed')).to.equal(0);
    });
  });
});
