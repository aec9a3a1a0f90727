import { expect } from 'chai';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import type { DomainEvent } from '../../src/events/index.js';
import { newId } from '../../src/platform/ids.js';
import { orderViewProjection } from '../../src/queries/order-view/order-view.projection.js';
import { Projector } from '../../src/queries/shared/projector.js';
import { rows, storedEvent } from '../support/fixtures.js';
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

  it("When an order is projected while its customer's rename is committing, then the order's view ends with the new name", async () => {
    const projector = new Projector(service.services.orm, [orderViewProjection]);
    const ada = Object.assign(new Customer(), { tenantId: 'acme', id: 'ada', name: 'Ada', email: 'ada@x.example', version: 1 });
    await projector.project(storedEvent(ada.profileChanged(), 'acme', now));
    const productId = newId();
    const catalogue = new Map([[productId, { id: productId, name: 'Mug', priceCents: 500, currency: 'EUR', active: true }]]);
    const placed = storedEvent(
      Order.place({ id: newId(), customer: ada, requested: [{ productId, quantity: 1 }], catalogue: catalogue as never, now })
        .event,
      'acme',
      now,
    ) as DomainEvent;
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
