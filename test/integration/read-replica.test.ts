import { expect } from 'chai';
import { compose, type Services } from '../../src/composition-root.js';
import { migrateUp } from '../../src/platform/db/orm.js';
import { eventFromLogRow, type EventLogRow } from '../../src/events/event-log.js';
import { createProduct, principal } from '../support/fixtures.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

describe('Read replica wiring (DATABASE_READ_URL)', () => {
  let environment: TestEnvironment;
  let services: Services;

  before(async () => {
    environment = await createTestEnvironment();
    // The "replica" is the primary itself here: what is tested is the wiring, not replication.
    services = await compose({ ...environment.config, DATABASE_READ_URL: environment.config.DATABASE_URL });
    await migrateUp(services.orm);
  });
  after(async () => {
    await services.close();
    await environment.destroy();
  });

  it('When a read URL is configured, then MikroORM has a replica and queries answer through it while commands write to the primary', async () => {
    expect(services.orm.config.get('replicas')).to.have.length(1);
    const productId = await createProduct(services, 'acme');
    const ada = principal('ada', 'acme', ['customer']);
    const placed = await services.commands.placeOrder.handle(ada, { lines: [{ productId, quantity: 1 }] });
    await services.projector.project(await eventOf(placed.commandId));

    const { order } = await services.queries.getOrder.handle(ada, placed.aggregateId);
    expect(order).to.include({ id: placed.aggregateId, status: 'placed' });
  });

  async function eventOf(commandId: string) {
    const [row] = await services.orm.em
      .fork()
      .execute<EventLogRow[]>("select * from outbox_events where command_id = ? and type = 'OrderPlaced'", [commandId]);
    return eventFromLogRow(row!);
  }
});
