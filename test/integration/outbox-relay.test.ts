import { expect } from 'chai';
import type { Queue } from 'bullmq';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { openQueue, QueueConnections } from '../../src/platform/queues.js';
import { BATCH_JOB_NAME } from '../../src/workers/job-envelope.js';
import { QUEUE_NAMES, routingTable, type QueueName } from '../../src/workers/queues.js';
import { OutboxRelay, RELAY_LEADER_LOCK, RELAY_SESSION_NAME } from '../../src/workers/relay/outbox-relay.js';
import { carriedEvents, eventIdsOf } from '../support/carried-events.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { startRedis, stopRedis } from '../support/private-servers.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * Real queues, wrapped to count every job added (`add` or `addBulk`) per job id, or per event id
 * for a batch of events (BullMQ itself would hide a duplicate).
 */
function countingQueues(queues: ReadonlyMap<QueueName, Queue>) {
  const adds = new Map<string, number>();
  const count = (name: string, jobId: string | undefined) => {
    const key = `${name}/${jobId}`;
    adds.set(key, (adds.get(key) ?? 0) + 1);
  };
  const wrapped = new Map(
    [...queues].map(([name, queue]) => [
      name,
      new Proxy(queue, {
        get(target, property, receiver) {
          if (property === 'add')
            return (jobName: string, data: unknown, options: { jobId: string }) => {
              count(name, options.jobId);
              return target.add(jobName, data, options);
            };
          if (property === 'addBulk')
            return (jobs: Parameters<Queue['addBulk']>[0]) => {
              for (const job of jobs) for (const id of eventIdsOf(job)) count(name, id);
              return target.addBulk(jobs);
            };
          return Reflect.get(target, property, receiver);
        },
      }),
    ]),
  );
  return { queues: wrapped as ReadonlyMap<QueueName, Queue>, adds };
}

describe('Outbox relay (PostgreSQL + Redis)', () => {
  let service: TestService;
  const ada = principal('ada', 'acme', ['customer'], { name: 'Ada' });

  /** Every relay a test built: each holds a session of its own until stopped. */
  let relays: OutboxRelay[] = [];
  /** Holds a test set up (released before the relays stop, which would otherwise wait on them). */
  let holds: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(async () => {
    await Promise.all(holds.map((release) => release().catch(() => undefined)));
    holds = [];
    await Promise.all(relays.map((r) => r.stop()));
    relays = [];
    await service.stop();
  });

  function relay(
    queues: ReadonlyMap<QueueName, Queue>,
    batchSize = 100,
    pollIntervalMs = 1000,
    linger?: { ms: number; abovePerSecond: number },
  ) {
    const { config, clock, logger } = service.services;
    const built = new OutboxRelay(
      queues,
      {
        databaseUrl: config.DATABASE_URL,
        batchSize,
        pollIntervalMs,
        linger,
        routes: routingTable({ ...config, ORDER_PAYMENT_TIMEOUT: 60_000 }),
        publishTimeoutMs: 1000,
      },
      clock,
      logger,
    );
    relays.push(built);
    return built;
  }

  /**
   * Holds a relay cycle that publishes the events already in the outbox between "jobs enqueued"
   * and "rows marked published": a trigger makes marking one of them wait on an advisory lock that
   * a session of the test holds until `release`. Events committed later are not held.
   */
  async function holdCyclesBeforeMarking(): Promise<{ release(): Promise<void>; held(): Promise<boolean> }> {
    const HOLD = 4214;
    const [last] = await rows<{ position: string }>(
      service.services,
      'select max(position)::text as position from outbox_events',
    );
    await rows(
      service.services,
      `create function hold_publish() returns trigger language plpgsql as $$
         begin if old.position <= ${Number(last!.position)} then perform pg_advisory_xact_lock_shared(${HOLD}); end if; return new; end $$;
       create trigger hold_publish before update on outbox_events for each row execute function hold_publish()`,
    );
    const holder = new pg.Client({ connectionString: service.config.DATABASE_URL });
    await holder.connect();
    await holder.query(`select pg_advisory_lock(${HOLD})`);
    let released: Promise<void> | undefined;
    const release = () => (released ??= holder.end());
    holds.push(release);
    return {
      release,
      /** A relay session is waiting in the marking UPDATE (its cycle holds the relay's lock). */
      held: async () =>
        (
          await rows(
            service.services,
            `select 1 from pg_stat_activity where datname = current_database()
                and application_name = '${RELAY_SESSION_NAME}' and wait_event_type = 'Lock'`,
          )
        ).length > 0,
    };
  }

  /** A relay session is idle after a cycle (its last statement was the cycle's commit). */
  const cycledOnce = async () =>
    (
      await rows(
        service.services,
        `select 1 from pg_stat_activity where datname = current_database()
            and application_name = '${RELAY_SESSION_NAME}' and state = 'idle' and query = 'commit'`,
      )
    ).length > 0;

  /** The relay sessions standing by: idle after trying the leader lock (their only statement). */
  const standingBy = async () =>
    rows<{ pid: number; tried: string }>(
      service.services,
      `select pid, query_start::text as tried from pg_stat_activity
        where datname = current_database() and application_name = '${RELAY_SESSION_NAME}' and state = 'idle'
          and query like '%pg_try_advisory_lock(${RELAY_LEADER_LOCK})%'`,
    );

  /** The relay sessions holding the leader lock. */
  const leaders = async () =>
    rows<{ pid: number }>(
      service.services,
      `select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 1
          and ((classid::bigint << 32) | objid::bigint) = ${RELAY_LEADER_LOCK}`,
    );

  const unpublished = async () => (await rows(service.services, 'select 1 from outbox_events where published_at is null')).length;

  async function placeOrders(count: number): Promise<void> {
    const productId = await createProduct(service.services, 'acme');
    for (let i = 0; i < count; i++)
      await service.services.commands.placeOrder.handle(ada, { lines: [{ productId, quantity: 1 }] });
  }

  it('When two relays race over the same outbox, then every event reaches every route exactly once', async () => {
    await placeOrders(30);
    const { queues, adds } = countingQueues(service.services.queues);
    const [first, second] = [relay(queues, 4), relay(queues, 4)];

    const drain = async (r: OutboxRelay) => {
      while ((await r.publishBatch()) > 0);
    };
    await Promise.all([drain(first), drain(second)]);

    const events = await rows<{ id: string; type: string; published_at: string | null }>(
      service.services,
      'select id, type, published_at from outbox_events',
    );
    expect(events.every((event) => event.published_at !== null)).to.equal(true);
    expect(adds.size).to.be.at.least(events.length);
    expect([...adds.values()].every((count) => count === 1)).to.equal(true);
    const projected = await carriedEvents(service.services.queues.get('projections')!, ['waiting']);
    expect(projected).to.deep.equal(events.map((event) => event.id).sort());
    const orderPlaced = events.filter((event) => event.type === 'OrderPlaced').length;
    expect(orderPlaced).to.equal(30);
    expect(await service.services.queues.get('payments')!.getJobCountByTypes('waiting')).to.equal(orderPlaced);
    expect(await service.services.queues.get('order-expiry')!.getJobCountByTypes('delayed')).to.equal(orderPlaced);
  });

  /** A subscription row as the subscribe command writes it (the relay's condition reads tenant, types and created_at). */
  async function subscribe(tenantId: string, eventTypes: string[], createdAt = new Date(Date.now() - 60_000)) {
    await rows(
      service.services,
      `insert into webhook_subscriptions (id, tenant_id, url, event_types, secret, version, created_at)
       values (gen_random_uuid(), ?, 'https://hooks.example.com/', ?::text[], 'sealed', 1, ?)`,
      [tenantId, `{${eventTypes.join(',')}}`, createdAt.toISOString()],
    );
  }

  async function placeOrderIn(tenantId: string): Promise<void> {
    const productId = await createProduct(service.services, tenantId);
    await service.services.commands.placeOrder.handle(principal('buyer', tenantId, ['customer'], { name: 'Buyer' }), {
      lines: [{ productId, quantity: 1 }],
    });
  }

  it('When an event is published, then it reaches the webhooks queue only if its tenant subscribes to its type; every other route gets every event', async () => {
    await subscribe('acme', ['order.placed']);
    await subscribe('globex', ['order.paid']); // another type than its event
    await Promise.all([placeOrderIn('acme'), placeOrderIn('globex'), placeOrderIn('initech')]);
    const events = await rows<{ id: string; tenant_id: string; type: string }>(
      service.services,
      'select id, tenant_id, type from outbox_events',
    );

    expect(await relay(service.services.queues).publishBatch()).to.equal(events.length);

    const queued = async (queue: QueueName) => carriedEvents(service.services.queues.get(queue)!, ['waiting', 'delayed']);
    const acmePlaced = events.filter((event) => event.tenant_id === 'acme' && event.type === 'OrderPlaced');
    expect(acmePlaced).to.have.length(1);
    expect(await queued('webhooks')).to.deep.equal([acmePlaced[0]!.id]);
    expect(await queued('projections')).to.deep.equal(events.map((event) => event.id).sort());
    expect(await queued('payments')).to.have.length(3);
  });

  it('When a subscription is made after an event occurred but before the relay claims the event, then the event gets no webhooks job', async () => {
    await placeOrderIn('acme');
    await subscribe('acme', ['order.placed', 'product.created', 'customer.profile_changed'], new Date());

    await relay(service.services.queues).publishBatch();

    expect(await service.services.queues.get('webhooks')!.getJobs(['waiting', 'delayed'])).to.deep.equal([]);
    expect(await service.services.queues.get('projections')!.getJobCountByTypes('waiting')).to.be.greaterThan(0);
  });

  it('When a relay cycle is running, then another relay claims nothing and the running relay drains what committed meanwhile', async () => {
    await placeOrders(1);
    const hold = await holdCyclesBeforeMarking();
    const running = countingQueues(service.services.queues);
    const standing = countingQueues(service.services.queues);
    const first = relay(running.queues, 100, 3_600_000);
    first.start();
    await eventually(() => hold.held(), 30_000, 'the first relay to be held in its cycle');

    // Committed while the first relay's cycle runs: its NOTIFY reaches both relays.
    await placeOrders(1);
    expect(await relay(standing.queues).publishBatch()).to.equal(0);
    expect(standing.adds.size).to.equal(0);

    await hold.release();
    await eventually(async () => (await unpublished()) === 0, 30_000, 'the first relay to drain the outbox');
    const events = await rows<{ id: string }>(service.services, 'select id from outbox_events');
    expect([...running.adds.keys()].filter((key) => key.startsWith('projections/')).sort()).to.deep.equal(
      events.map((event) => `projections/${event.id}`).sort(),
    );
    expect([...running.adds.values()].every((count) => count === 1)).to.equal(true);
  });

  it('When the relay running a cycle dies in it, then a standing-by relay publishes its events by its poll', async () => {
    await placeOrders(2);
    const hold = await holdCyclesBeforeMarking();
    const dying = countingQueues(service.services.queues);
    const standing = countingQueues(service.services.queues);
    const first = relay(dying.queues, 100, 3_600_000);
    first.start();
    await eventually(() => hold.held(), 30_000, 'the first relay to be held in its cycle');
    const second = relay(standing.queues, 100, 200);
    second.start();
    await eventually(async () => (await standingBy()).length > 0, 30_000, 'the second relay to find a leader and stand by');

    // The first relay's session dies mid-cycle (as with its process): its claim and its lock go
    // with it. No commit follows, so no NOTIFY: only the second relay's poll can publish.
    await rows(
      service.services,
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and application_name = '${RELAY_SESSION_NAME}' and wait_event_type = 'Lock'`,
    );
    await first.stop();
    await hold.release();

    await eventually(async () => (await unpublished()) === 0, 30_000, 'the standing-by relay to publish the events');
    const events = await rows<{ id: string }>(service.services, 'select id from outbox_events');
    expect([...standing.adds.keys()].filter((key) => key.startsWith('projections/')).sort()).to.deep.equal(
      events.map((event) => `projections/${event.id}`).sort(),
    );
    expect([...standing.adds.values()].every((count) => count === 1)).to.equal(true);
    // The dead cycle had enqueued them already, in the same composition: the job id keeps one job.
    expect(await carriedEvents(service.services.queues.get('projections')!, ['waiting'])).to.deep.equal(
      events.map((event) => event.id).sort(),
    );
  });

  it('When two relays run, then one leads and the other claims nothing, even with events waiting, until the leader stops; then it takes over by its poll', async () => {
    await placeOrders(1);
    const leading = countingQueues(service.services.queues);
    const standing = countingQueues(service.services.queues);
    // The leader polls once an hour: after its first cycle only a NOTIFY wakes it.
    const first = relay(leading.queues, 100, 3_600_000);
    first.start();
    await eventually(
      async () => (await unpublished()) === 0 && (await leaders()).length === 1,
      30_000,
      'the first relay to lead and drain the outbox',
    );
    const second = relay(standing.queues, 100, 100);
    second.start();
    await eventually(async () => (await standingBy()).length > 0, 30_000, 'the second relay to stand by');
    expect(await leaders()).to.have.length(1);

    // Events that commit without a NOTIFY (as when one is lost): the leader sleeps on, and a relay
    // that could claim them would on its next poll. The standby only tries the leader lock.
    const [copied] = await rows<{ id: string }>(
      service.services,
      `insert into outbox_events (id, tenant_id, type, schema_version, aggregate_type, aggregate_id, aggregate_version, payload, occurred_at)
       select gen_random_uuid(), tenant_id, type, schema_version, aggregate_type, aggregate_id, aggregate_version, payload, now()
         from outbox_events where type = 'OrderPlaced' limit 1 returning id`,
    );
    const tried = (await standingBy())[0]!.tried;
    const polledSince = async (count: number) => {
      let polls = 0;
      let last = tried;
      await eventually(
        async () => {
          const now = (await standingBy())[0]?.tried;
          if (now && now !== last) ((polls += 1), (last = now));
          return polls >= count;
        },
        30_000,
        `the standby to poll ${count} times`,
      );
    };
    await polledSince(3);
    expect(await unpublished()).to.equal(1);
    expect(standing.adds.size).to.equal(0);

    // The leader stops (its session, and the lock, go with it): the standby's next poll takes over.
    await first.stop();
    await eventually(async () => (await unpublished()) === 0, 30_000, 'the second relay to take over and publish');
    expect(standing.adds.get(`projections/${copied!.id}`)).to.equal(1);
    expect(await leaders()).to.have.length(1);
    expect([...leading.adds.keys()].some((key) => key.endsWith(copied!.id))).to.equal(false);
  });

  it('When Redis is down at commit time, then the command is still accepted and its events wait in the outbox until Redis is back', async () => {
    const port = await freePort();
    const deadRedis = await startRedis(port);
    const settings = {
      connections: new QueueConnections({ url: `redis://127.0.0.1:${port}` }),
      prefix: service.config.QUEUE_PREFIX,
    };
    const queues = new Map(QUEUE_NAMES.map((name) => [name, openQueue(name, settings)]));
    for (const queue of queues.values()) queue.on('error', () => undefined);
    try {
      await stopRedis(deadRedis);
      await placeOrders(2);

      const failure = await relay(queues)
        .publishBatch()
        .catch((error: Error) => error);
      expect(failure).to.be.instanceOf(Error);
      expect(await rows(service.services, 'select 1 from outbox_events where published_at is null')).to.have.length(4);

      const revived = await startRedis(port);
      try {
        // The producers reconnect on their own; the relay simply succeeds on a later cycle.
        const retrying = relay(queues);
        const published = await eventually(
          () => retrying.publishBatch().catch(() => 0),
          15_000,
          'a relay cycle to succeed once Redis is back',
        );
        expect(published).to.equal(4);
        expect(await rows(service.services, 'select 1 from outbox_events where published_at is null')).to.have.length(0);
        expect(await carriedEvents(queues.get('projections')!, ['waiting'])).to.have.length(4);
      } finally {
        await Promise.allSettled([...queues.values()].map((queue) => queue.close()));
        await stopRedis(revived);
      }
    } finally {
      deadRedis.kill('SIGKILL');
    }
  });

  it('When the relay dies between enqueueing and marking rows published, then the events are published again and the queue holds each job once', async () => {
    await placeOrders(3);
    await rows(
      service.services,
      `create function refuse_publish() returns trigger language plpgsql as $$
         begin raise exception 'simulated crash before commit'; end $$;
       create trigger refuse_publish before update on outbox_events for each statement execute function refuse_publish()`,
    );
    const { queues, adds } = countingQueues(service.services.queues);

    const events = await rows(service.services, 'select id from outbox_events');

    const crash = await relay(queues)
      .publishBatch()
      .catch((error: Error) => error);
    expect(crash).to.be.instanceOf(Error).with.property('message').that.includes('simulated crash');
    expect(await rows(service.services, 'select 1 from outbox_events where published_at is null')).to.have.length(events.length);

    await rows(service.services, 'drop trigger refuse_publish on outbox_events');
    expect(await relay(queues).publishBatch()).to.equal(events.length);

    expect(adds.size).to.be.at.least(events.length);
    expect([...adds.values()].every((count) => count === 2)).to.equal(true);
    // Published again in the same composition: the batch's job id keeps one job of them.
    expect(await carriedEvents(service.services.queues.get('projections')!, ['waiting'])).to.deep.equal(
      events.map((event) => event.id).sort(),
    );
  });

  it('When a cycle publishes several events, then the projections queue gets them in jobs of up to its batch size, a lone one as its own job', async () => {
    await placeOrders(3);
    const events = await rows<{ id: string }>(service.services, 'select id from outbox_events order by position');
    expect(events).to.have.length(5); // the product, the profile and three orders
    const routes = routingTable({ ...service.config, PROJECTION_BATCH_SIZE: 2 });
    const { config, clock, logger } = service.services;
    const batching = new OutboxRelay(
      service.services.queues,
      { databaseUrl: config.DATABASE_URL, batchSize: 100, pollIntervalMs: 1000, routes, publishTimeoutMs: 1000 },
      clock,
      logger,
    );
    relays.push(batching);

    expect(await batching.publishBatch()).to.equal(5);

    const jobs = await service.services.queues.get('projections')!.getJobs(['waiting']);
    const carried = jobs.map((job) => ({ name: job.name, events: eventIdsOf(job) }));
    const ids = events.map((event) => event.id);
    expect(carried).to.have.deep.members([
      { name: BATCH_JOB_NAME, events: ids.slice(0, 2) },
      { name: BATCH_JOB_NAME, events: ids.slice(2, 4) },
      { name: 'OrderPlaced', events: ids.slice(4) },
    ]);
    expect(jobs.find((job) => job.name === 'OrderPlaced')!.id).to.equal(ids[4]);
    // Every other queue still gets a job per event.
    expect(await service.services.queues.get('payments')!.getJobCountByTypes('waiting')).to.equal(3);
  });

  it('When an order is placed, then its expiry job is delayed by the payment timeout counted from the event', async () => {
    await placeOrders(1);
    await relay(service.services.queues).publishBatch();

    const [job] = await service.services.queues.get('order-expiry')!.getJobs(['delayed']);
    const [event] = await rows<{ id: string; occurred_at: string }>(
      service.services,
      "select id, occurred_at from outbox_events where type = 'OrderPlaced'",
    );
    expect(job!.id).to.equal(event!.id);
    expect(job!.timestamp + job!.delay).to.be.closeTo(Date.parse(event!.occurred_at) + 60_000, 1_000);
  });

  it('When a command commits, then a running relay is woken by its NOTIFY, not by the next poll, nor after a linger below its linger rate', async () => {
    // The relay polls once an hour here: only the NOTIFY of the commit can wake it in time. It would
    // also linger an hour from 8 rows a second, but the test commits 7 events in all.
    const running = relay(service.services.queues, 100, 3_600_000, { ms: 3_600_000, abovePerSecond: 8 });
    running.start();
    try {
      // It LISTENs once it leads, before its first claim: once that cycle is over, it idles, listening.
      await eventually(cycledOnce, 30_000, 'the relay to lead and LISTEN');
      const projections = service.services.queues.get('projections')!;
      // Three rounds of a product and an order (the first with the profile), each published before the next.
      for (const published of [3, 5, 7]) {
        await placeOrders(1);
        await eventually(
          async () => (await carriedEvents(projections, ['waiting'])).length === published,
          30_000,
          `the relay to publish the committed events (${published} in all), without lingering`,
        );
      }
    } finally {
      await running.stop();
    }
  });

  it('When the relay claims at least its linger rate, then it waits the linger after each cycle, and what committed meanwhile goes out in one cycle', async () => {
    await placeOrders(3); // five events: the product, the profile and three orders
    const lingerMs = 3_000;
    const running = relay(service.services.queues, 100, 3_600_000, { ms: lingerMs, abovePerSecond: 5 });
    running.start();
    await eventually(async () => (await unpublished()) === 0, 30_000, 'the first cycle to publish the five events');
    // Five rows in the last second: the relay lingers, and commits (each with its NOTIFY) wait for it.
    await placeOrders(2); // a product and two orders, three commits
    await eventually(async () => (await unpublished()) === 0, 30_000, 'the cycle after the linger');

    // A cycle marks its rows with its transaction's now().
    const cycles = await rows<{ at_ms: number; events: number }>(
      service.services,
      `select (extract(epoch from published_at) * 1000)::float8 as at_ms, count(*)::int as events
         from outbox_events group by published_at order by published_at`,
    );
    expect(cycles.map((cycle) => cycle.events)).to.deep.equal([5, 3]);
    const [first, second] = cycles.map((cycle) => cycle.at_ms);
    expect(second! - first!).to.be.at.least(lingerMs - 50);
    // The three went to the projections queue as one job.
    const lateIds = (await rows<{ id: string }>(service.services, 'select id from outbox_events order by position')).slice(5);
    const jobs = await service.services.queues.get('projections')!.getJobs(['waiting']);
    expect(jobs.map((job) => eventIdsOf(job))).to.deep.include(lateIds.map((event) => event.id));
  });

  it('When light cycles add up to the linger rate within a second, then the relay lingers; rows claimed seconds before no longer count', async () => {
    const running = relay(service.services.queues, 100, 3_600_000, { ms: 3_600_000, abovePerSecond: 4 });
    running.start();
    await eventually(cycledOnce, 30_000, 'the relay to lead and LISTEN');
    await placeOrders(1); // the product, then the profile and the order: 3 rows
    await eventually(async () => (await unpublished()) === 0, 30_000, 'the first three rows');
    // Time is what this test is about: three seconds fade those rows to about a twentieth.
    await delay(3_000);
    // Two more rows, one at a time, about 2.15 in all (without the fading, 4 after the first).
    for (const product of ['first', 'second']) {
      await createProduct(service.services, 'acme');
      await eventually(async () => (await unpublished()) === 0, 30_000, `the ${product} product, without a linger`);
    }
    await placeOrders(3); // the product and three orders, one commit each: the count passes 4 on the way
    await createProduct(service.services, 'acme');
    // The relay lingers an hour from the cycle that passed 4 rows a second: a row after it waits.
    await delay(1_000);
    expect(await unpublished()).to.be.greaterThan(0);
  });
});
