import { expect } from 'chai';
import { connectOrm, type Orm } from '../../src/platform/db/orm.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

const BEFORE = 'Migration20261129230000_webhook_version';
const RENAME = 'Migration20261129230100_webhook_integration_event_types';

describe('Migration: webhook subscriptions name integration event types', function () {
  this.timeout(60_000);
  let environment: TestEnvironment;
  let orm: Orm;

  before(async () => {
    // A database of its own, not migrated: the test walks the migrations itself.
    environment = await createTestEnvironment();
    orm = await connectOrm({ databaseUrl: environment.config.DATABASE_URL, poolMax: 1, entities: [] });
  });
  after(async () => {
    await orm?.close(true);
    await environment?.destroy();
  });

  const eventTypes = async () =>
    (
      await orm.em
        .getConnection('write')
        .execute<{ event_types: string[] }[]>('select event_types from webhook_subscriptions order by id')
    ).map((row) => row.event_types);

  it('When subscriptions stored domain event types, then the migration renames each to its integration event type, and down restores them', async () => {
    await orm.migrator.up({ to: BEFORE });
    await orm.em.getConnection('write').execute(
      `insert into webhook_subscriptions (id, tenant_id, url, event_types, secret, version, created_at) values
         ('0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e51', 'acme', 'https://hooks.example.com/a', '{OrderPaid,OrderShipped,ProductCreated}', 'sealed', 1, now()),
         ('0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e52', 'acme', 'https://hooks.example.com/b', '{CustomerProfileChanged,OrderPaymentFailed}', 'sealed', 1, now())`,
    );

    await orm.migrator.up({ to: RENAME });
    const renamed = await eventTypes();
    await orm.migrator.down({ to: BEFORE });
    const restored = await eventTypes();

    expect(renamed).to.deep.equal([
      ['order.paid', 'order.shipped', 'product.created'],
      ['customer.profile_changed', 'order.payment_failed'],
    ]);
    expect(restored).to.deep.equal([
      ['OrderPaid', 'OrderShipped', 'ProductCreated'],
      ['CustomerProfileChanged', 'OrderPaymentFailed'],
    ]);
  });
});
