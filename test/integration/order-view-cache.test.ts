import { once } from 'node:events';
import { expect } from 'chai';
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import { Product } from '../../src/commands/products/product.entity.js';
import type { DomainEvent } from '../../src/events/index.js';
import { NOTIFIER_SESSION } from '../../src/platform/db/notifier.js';
import { newId } from '../../src/platform/ids.js';
import { NotFoundError } from '../../src/platform/errors.js';
import { ORDER_VIEW_CACHE_SESSION, ORDER_VIEW_CHANNEL } from '../../src/queries/order-view/order-view.cache.js';
import type { OrderViewRow } from '../../src/queries/order-view/order-view.mapper.js';
import type { OrderListDto } from '../../src/queries/order-view/order.dto.js';
import { createOrderViewProjection } from '../../src/queries/order-view/order-view.projection.js';
import { Projector } from '../../src/queries/shared/projector.js';
import type { Principal } from '../../src/policies/principal.js';
import { principal, rows, storedEvent } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * The API's in-process cache of single order reads (src/queries/order-view/order-view.cache.ts):
 * a hit costs no SQL, yet every read still answers what PostgreSQL holds now, for this caller.
 */
describe('Order cache: single order reads without SQL, never stale, never another caller’s view (PostgreSQL)', () => {
  let service: TestService;
  let orderId: string;
  const ada = principal('ada', 'acme', ['customer']);
  const bob = principal('bob', 'acme', ['customer']);
  const staff = principal('sam', 'acme', ['staff']);
  const adaElsewhere = principal('ada', 'globex', ['customer']);

  beforeEach(async () => {
    service = await startTestService({ api: false });
    orderId = newId();
    await rows(
      service.services,
      `insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
         total_cents, currency, status, status_history, internal_note, risk_score, placed_at, updated_at, version)
       values (?, 'acme', 'ada', 'Ada', 'ada@x.io', 1, '[]', 100, 'EUR', 'placed', '[]', 'vip', 7, now(), now(), 1)`,
      [orderId],
    );
  });
  afterEach(() => service.stop());

  const cache = () => service.services.orderCache;
  const read = (caller: Principal, consistentWith?: string) =>
    service.services.queries.getOrder.handle(caller, orderId, { consistentWith });
  const refusal = async (caller: Principal) => {
    try {
      await read(caller);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  /** The first read starts the listener; once it listens, the next read fills the cache. */
  async function cachedBy(caller: Principal) {
    const listening = once(cache(), 'listening');
    await read(caller);
    await listening;
    await read(caller);
    expect(cache().size, 'the row is cached').to.equal(1);
  }

  /** Changes the row the way no trigger hears (a replica's apply does the same): only a cache that was bypassed or emptied can show it. */
  const changeUnheard = (status: string) =>
    service.services.orm.em.fork().transactional(async (em: EntityManager) => {
      await em.execute('set local session_replication_role = replica');
      await em.execute('update order_view set status = ? where id = ?', [status, orderId]);
    });

  it('When a projection changes a cached order, then the next read shows the change', async () => {
    await cachedBy(ada);

    const invalidated = once(cache(), 'invalidated');
    await rows(service.services, `update order_view set status = 'paid', version = 2 where id = ?`, [orderId]);
    await invalidated;

    expect((await read(ada)).order.status).to.equal('paid');
  });

  it("When another customer or another tenant's principal asks for a cached order, then it is not found", async () => {
    await cachedBy(ada);

    expect(await refusal(bob)).to.be.instanceOf(NotFoundError);
    expect(await refusal(adaElsewhere)).to.be.instanceOf(NotFoundError);
    expect(cache().get('globex', orderId), 'the key includes the tenant').to.equal(undefined);
    expect((await read(ada)).order.id).to.equal(orderId);
  });

  it('When staff filled the cache, then a customer still gets no staff-only fields, and staff still get them', async () => {
    await cachedBy(staff);

    const forAda = (await read(ada)).order;
    const forStaff = (await read(staff)).order;

    expect(forAda).not.to.have.any.keys('internalNote', 'riskScore');
    expect(forStaff).to.include({ internalNote: 'vip', riskScore: 7 });
  });

  it('When the listener is lost, then the cache is emptied and reads go to PostgreSQL until it listens again', async () => {
    await cachedBy(ada);

    const lost = once(cache(), 'lost');
    await rows(
      service.services,
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and datname = current_database()',
      [ORDER_VIEW_CACHE_SESSION],
    );
    await lost;
    expect(cache().size).to.equal(0);

    await changeUnheard('paid');
    const listening = once(cache(), 'listening');
    expect((await read(ada)).order.status, 'read while the listener is down').to.equal('paid');
    await listening;
    expect((await read(ada)).order.status, 'read after it listens again').to.equal('paid');
  });

  it('When a read is consistent with a command, then it asks PostgreSQL and refreshes the cache', async () => {
    await cachedBy(ada);
    await changeUnheard('paid');

    const consistent = await read(ada, newId());
    expect(consistent).to.deep.include({ freshness: 'unknown-command' });
    expect(consistent.order.status).to.equal('paid');
    expect((await read(ada)).order.status, 'the cache was refreshed').to.equal('paid');
  });

  it('When a fill read the row before a change that was already announced, then the older row is not kept', async () => {
    await cachedBy(ada);
    const ticket = cache().ticket();
    const [before] = await rows<OrderViewRow>(service.services, 'select *, tenant_id from order_view where id = ?', [orderId]);

    const invalidated = once(cache(), 'invalidated');
    await rows(service.services, `update order_view set status = 'paid', version = 2 where id = ?`, [orderId]);
    await invalidated;
    cache().fill(ticket, before!);

    expect(cache().size).to.equal(0);
    expect((await read(ada)).order.status).to.equal('paid');
  });
  describe('List pages: kept per caller and query, void once any order of the tenant changes', () => {
    const list = async (caller: Principal, query: { status?: 'placed' | 'paid'; consistentWith?: string } = {}) =>
      (await service.services.queries.listOrders.handle(caller, { limit: 20, ...query })).page.toJSON() as OrderListDto;

    /** The first list starts the listener; once it listens, the next list fills a page. */
    async function pageKeptFor(caller: Principal) {
      const listening = once(cache(), 'listening');
      await list(caller);
      await listening;
      const kept = await list(caller);
      expect(cache().pageCount, 'the page is kept').to.equal(1);
      return kept;
    }

    const insertOrder = (tenantId: string, customerId: string) =>
      rows(
        service.services,
        `insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
           total_cents, currency, status, status_history, internal_note, risk_score, placed_at, updated_at, version)
         values (?, ?, ?, 'X', 'x@x.io', 1, '[]', 1, 'EUR', 'placed', '[]', null, null, now(), now(), 1)`,
        [newId(), tenantId, customerId],
      );

    it('When a kept page is asked again, then it is answered without SQL, the same bytes and tag', async () => {
      await pageKeptFor(ada);
      const first = await service.services.queries.listOrders.handle(ada, { limit: 20 });

      await changeUnheard('paid');
      const again = await service.services.queries.listOrders.handle(ada, { limit: 20 });

      expect(again.page.bytes.equals(first.page.bytes)).to.equal(true);
      expect(again.page.tag).to.equal(first.page.tag);
      expect((again.page.toJSON() as OrderListDto).items[0]!.status, 'no SQL saw the unheard change').to.equal('placed');
    });

    it('When any order of the tenant changes, even one not on the page, then the next list asks PostgreSQL', async () => {
      await pageKeptFor(ada);
      await changeUnheard('paid');

      const invalidated = once(cache(), 'invalidated');
      await insertOrder('acme', 'bob');
      await invalidated;

      expect((await list(ada)).items.map((order) => order.status)).to.deep.equal(['paid']);
    });

    it("When another tenant's order changes, then the tenant's pages are kept", async () => {
      await pageKeptFor(ada);

      const invalidated = once(cache(), 'invalidated');
      await insertOrder('globex', 'ada');
      await invalidated;
      await changeUnheard('paid');

      expect((await list(ada)).items[0]!.status).to.equal('placed');
    });

    it('When another caller or the same caller with another query lists, then it never gets a kept page', async () => {
      await pageKeptFor(staff);

      const forAda = await list(ada);
      const forBob = await list(bob);
      const forAdaElsewhere = await list(adaElsewhere);
      const paidForStaff = await list(staff, { status: 'paid' });

      expect(forAda.items[0]).not.to.have.any.keys('internalNote', 'riskScore');
      expect((await list(staff)).items[0]).to.include({ internalNote: 'vip', riskScore: 7 });
      expect(forBob.items).to.deep.equal([]);
      expect(forAdaElsewhere.items).to.deep.equal([]);
      expect(paidForStaff.items).to.deep.equal([]);
    });

    it('When order_view is truncated (a rebuild), then every kept page is dropped', async () => {
      await pageKeptFor(ada);

      const invalidated = once(cache(), 'invalidated');
      await rows(service.services, 'truncate order_view');
      await invalidated;

      expect(cache().pageCount).to.equal(0);
      expect((await list(ada)).items).to.deep.equal([]);
    });

    it('When more tenants changed than are remembered, then every kept page is dropped with them', async () => {
      await pageKeptFor(ada);
      await changeUnheard('paid');
      const ticket = cache().pageTicket();
      const inFlight = await service.services.queries.listOrders.handle(ada, { limit: 20, consistentWith: newId() });

      let heard = 0;
      const allHeard = new Promise<void>((done) => cache().on('invalidated', () => ++heard === 10_001 && done()));
      await rows(service.services, `select pg_notify('order_view_changed', json_build_array('acme', ?, 2, 1)::text)`, [orderId]);
      await rows(
        service.services,
        `select pg_notify('order_view_changed', json_build_array('t' || g, gen_random_uuid(), 1, 1)::text) from generate_series(1, 10000) g`,
      );
      await allHeard;
      cache().fillPage(ticket, 'acme', 'a key', inFlight.page);

      expect(cache().getPage('a key'), 'a fill that began before').to.equal(undefined);
      expect((await list(ada)).items[0]!.status).to.equal('paid');
    });

    it('When a page read the rows before a change of its tenant that was heard before its fill, then it is not kept', async () => {
      await pageKeptFor(ada);
      const ticket = cache().pageTicket();
      const before = await service.services.queries.listOrders.handle(ada, { limit: 20, consistentWith: newId() });

      const invalidated = once(cache(), 'invalidated');
      await rows(service.services, `update order_view set status = 'paid', version = 2 where id = ?`, [orderId]);
      await invalidated;
      cache().fillPage(ticket, 'acme', 'a key', before.page);

      expect(cache().getPage('a key')).to.equal(undefined);
      expect((await list(ada)).items[0]!.status).to.equal('paid');
    });

    it('When the listener is lost, then the pages are dropped and lists go to PostgreSQL until it listens again', async () => {
      await pageKeptFor(ada);
      const ticketBeforeLoss = cache().pageTicket();
      const before = await service.services.queries.listOrders.handle(ada, { limit: 20, consistentWith: newId() });

      const lost = once(cache(), 'lost');
      await rows(
        service.services,
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and datname = current_database()',
        [ORDER_VIEW_CACHE_SESSION],
      );
      await lost;
      expect(cache().pageCount).to.equal(0);

      await changeUnheard('paid');
      const listening = once(cache(), 'listening');
      expect((await list(ada)).items[0]!.status, 'listed while the listener is down').to.equal('paid');
      await listening;
      expect((await list(ada)).items[0]!.status, 'listed after it listens again').to.equal('paid');
      cache().fillPage(ticketBeforeLoss, 'acme', 'a key', before.page);
      expect(cache().getPage('a key'), 'a fill that began before the loss').to.equal(undefined);
    });

    it('When a list is consistent with a command, then it asks PostgreSQL and refreshes the kept page', async () => {
      await pageKeptFor(ada);
      await changeUnheard('paid');

      expect((await list(ada, { consistentWith: newId() })).items[0]!.status).to.equal('paid');
      expect((await list(ada)).items[0]!.status, 'the page was refreshed').to.equal('paid');
    });
  });
});

/** Ada's order, placed and then paid, as the projections worker receives its events. */
function placedAndPaid() {
  const now = new Date();
  const { product } = Product.create({
    id: newId(),
    tenantId: 'acme',
    sku: 'S',
    name: 'Mug',
    priceCents: 500,
    currency: 'EUR',
    now,
  });
  const customer = Object.assign(new Customer(), { tenantId: 'acme', id: 'ada', name: 'Ada', email: 'ada@x.io', version: 1 });
  const { order, event: placed } = Order.place({
    id: newId(),
    customer,
    requested: [{ productId: product.id, quantity: 1 }],
    catalogue: new Map([[product.id, product]]),
    now,
  });
  const paid = order.pay('auth-1', now);
  return { orderId: order.id, placed: storedEvent(placed, 'acme', now), paid: storedEvent(paid, 'acme', now) };
}

describe('Order cache: the projection announces its changes after commit, and a lost announcement is bounded (PostgreSQL)', () => {
  let service: TestService;
  const ada = principal('ada', 'acme', ['customer']);
  beforeEach(async () => {
    service = await startTestService({ api: false, env: { ORDER_CACHE_TTL: '1s' } });
  });
  afterEach(() => service.stop());

  const cache = () => service.services.orderCache;
  const read = (orderId: string) => service.services.queries.getOrder.handle(ada, orderId, {});
  /**
   * Projects the order as the projections worker does and caches its row. The cache listens first
   * and hears the projection's announcement before it is filled: an announcement goes out after the
   * commit, so heard later it would evict the freshly cached row.
   */
  async function projectedAndCached(placed: DomainEvent, orderId: string) {
    const listening = once(cache(), 'listening');
    await read(orderId).catch((error: unknown) => expect(error).to.be.instanceOf(NotFoundError)); // not projected yet; the cache starts listening
    await listening;
    const heard = once(cache(), 'invalidated');
    await service.services.projector.project(placed);
    await heard;
    await read(orderId);
    await read(orderId);
    expect(cache().size, 'the row is cached').to.equal(1);
  }

  it("When the projection changes a cached order, then one NOTIFY announces it, sent after the commit from the notifier's session", async () => {
    const { orderId, placed, paid } = placedAndPaid();
    await projectedAndCached(placed, orderId);
    const listener = new pg.Client({ connectionString: service.config.DATABASE_URL });
    await listener.connect();
    try {
      const heard: Array<{ pid: number; payload: string }> = [];
      listener.on('notification', (message) => heard.push({ pid: message.processId, payload: message.payload ?? '' }));
      await listener.query(`listen ${ORDER_VIEW_CHANNEL}`);

      const invalidated = once(cache(), 'invalidated');
      await service.services.projector.project(paid);
      await invalidated;
      expect((await read(orderId)).order.status).to.equal('paid');

      await new Promise((resolve) => setTimeout(resolve, 200));
      const [notifier] = await rows<{ pid: number }>(
        service.services,
        'select pid from pg_stat_activity where application_name = ? and datname = current_database()',
        [NOTIFIER_SESSION],
      );
      expect(heard, 'one announcement, not the trigger’s in the commit as well').to.deep.equal([
        { pid: notifier!.pid, payload: JSON.stringify(['acme', orderId, paid.aggregateVersion, 0]) },
      ]);
    } finally {
      await listener.end();
    }
  });

  it('When a change is committed but its announcement is lost (the projections process died in between), then the cache serves the older row and list page for at most ORDER_CACHE_TTL', async () => {
    const { orderId, placed, paid } = placedAndPaid();
    await projectedAndCached(placed, orderId);
    const list = async () =>
      ((await service.services.queries.listOrders.handle(ada, { limit: 20 })).page.toJSON() as OrderListDto).items.map(
        (item) => item.status,
      );
    await list();
    expect(cache().pageCount, 'the page is kept').to.equal(1);
    // The projection as the dying process ran it: the trigger was told the change would be announced, and it never was.
    const dying = new Projector(service.services.orm, [createOrderViewProjection(() => undefined)]);

    await dying.project(paid);
    const [{ status }] = (await rows<{ status: string }>(service.services, 'select status from order_view where id = ?', [
      orderId,
    ])) as [{ status: string }];
    expect(status, 'committed').to.equal('paid');
    expect((await read(orderId)).order.status, 'served from the cache, unannounced').to.equal('placed');
    expect(await list(), 'the kept page, unannounced').to.deep.equal(['placed']);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await read(orderId)).order.status, 'after ORDER_CACHE_TTL').to.equal('paid');
    expect(await list(), 'the page after ORDER_CACHE_TTL').to.deep.equal(['paid']);
  });
});
