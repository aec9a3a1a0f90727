import { expect } from 'chai';
import { orderViewProjection } from '../../src/queries/order-view/order-view.projection.js';
import type { Projection } from '../../src/queries/shared/projection.js';
import { Projector } from '../../src/queries/shared/projector.js';
import { customerOf, placedOrderEvent, rows, storedEvent } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';

const now = new Date('2026-11-30T10:00:00Z');

/**
 * Two events of one tenant projected at once, each alone (not in one batch): the read model must
 * end as if they had been applied one after the other. order_view takes the customer's name from
 * the newer of the OrderPlaced event and customer_profile_view, and a profile change renames the
 * customer's existing rows: without one projection waiting for the other, an order projected while
 * a rename is committing reads the old profile, and the rename's snapshot does not see the order's
 * row, so it keeps the old name for good (the rebuild would show the new one).
 */
describe('Projections of one tenant running at once (PostgreSQL)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false });
  });
  afterEach(() => service.stop());

  /** Makes ada's order_view rows linger before their commit (0.5 s) and waits until one does. */
  async function lingerOnAda(): Promise<void> {
    await rows(
      service.services,
      `create function linger() returns trigger language plpgsql as $$
         begin if new.customer_id = 'ada' then perform pg_sleep(0.5); end if; return null; end $$;
       create trigger linger after insert or update on order_view for each row execute function linger()`,
    );
  }
  const lingering = () =>
    eventually(
      async () =>
        (await rows(service.services, "select 1 from pg_stat_activity where wait_event = 'PgSleep'")).length > 0 || undefined,
      5_000,
      "ada's order to be committing",
    );
  /** Resolves to which of the two settled first. */
  const firstOf = (runs: Record<string, Promise<unknown>>) =>
    Promise.race(Object.entries(runs).map(([name, run]) => run.then(() => name)));

  it("When two customers' orders are projected at once, then neither waits for the other", async () => {
    const projector = new Projector(service.services.orm, Object.values(service.services.projections));
    await lingerOnAda();

    const ada = projector.project(placedOrderEvent(customerOf('ada', { name: 'Ada' }), now));
    await lingering();
    const bob = projector.project(placedOrderEvent(customerOf('bob', { name: 'Bob' }), now));

    expect(await firstOf({ ada, bob })).to.equal('bob');
    await ada;
    expect(await rows(service.services, 'select customer_id from order_view order by customer_id')).to.deep.equal([
      { customer_id: 'ada' },
      { customer_id: 'bob' },
    ]);
  });

  it("When a projection that names no lock keys follows an event, then it waits for the tenant's other projections", async () => {
    const projector = new Projector(service.services.orm, Object.values(service.services.projections));
    const seenAt: number[] = [];
    const wholeTenant: Projection = {
      name: 'whole_tenant',
      eventTypes: ['OrderPlaced'],
      tables: [],
      async apply() {
        seenAt.push(Date.now());
      },
    };
    await lingerOnAda();

    const ada = projector.project(placedOrderEvent(customerOf('ada', { name: 'Ada' }), now));
    await lingering();
    const bob = new Projector(service.services.orm, [wholeTenant]).project(
      placedOrderEvent(customerOf('bob', { name: 'Bob' }), now),
    );

    expect(await firstOf({ ada, bob })).to.equal('ada');
    expect(await bob).to.deep.equal(['whole_tenant']);
    expect(seenAt).to.have.length(1);
  });

  it("When an order is projected while its customer's rename is committing, then the order's view ends with the new name", async () => {
    const projector = new Projector(service.services.orm, [orderViewProjection]);
    const ada = customerOf('ada', { name: 'Ada' });
    await projector.project(storedEvent(ada.profileChanged(), 'acme', now));
    const placed = placedOrderEvent(ada, now);
    const renamed = storedEvent(ada.changeProfile({ name: 'Ada King', email: 'ada@king.example' }, now), 'acme', now);
    // The rename's statement lingers before its commit, long enough for the order to be projected meanwhile.
    await rows(
      service.services,
      `create function linger() returns trigger language plpgsql as $$ begin perform pg_sleep(0.5); return null; end $$;
       create trigger linger after insert or update on customer_profile_view for each statement execute function linger()`,
    );

    const renaming = projector.project(renamed);
    await eventually(
      async () =>
        (await rows(service.services, "select 1 from pg_stat_activity where wait_event = 'PgSleep'")).length > 0 || undefined,
      5_000,
      'the rename to be committing',
    );
    await Promise.all([projector.project(placed), renaming]);

    expect(
      await rows(service.services, 'select customer_name, customer_email, customer_version from order_view where id = ?', [
        (placed as { aggregateId: string }).aggregateId,
      ]),
    ).to.deep.equal([{ customer_name: 'Ada King', customer_email: 'ada@king.example', customer_version: 2 }]);
  });
});
