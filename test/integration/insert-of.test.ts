import { expect } from 'chai';
import { Order } from '../../src/commands/orders/order.entity.js';
import { Product } from '../../src/commands/products/product.entity.js';
import { insertOf } from '../../src/platform/db/insert-of.js';
import { newId } from '../../src/platform/ids.js';
import { principal } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('insertOf: a new aggregate written with other statements (PostgreSQL)', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false });
  });
  after(() => service.stop());

  async function insert(entity: object) {
    const { sql, params } = insertOf(service.services.orm.em, entity);
    await service.services.orm.em.fork().execute(sql, params);
  }

  it('When an order is inserted from its metadata, then MikroORM loads back every property as it was', async () => {
    const now = new Date('2026-11-30T01:02:03.456Z');
    const name = `Tricky 'quoted' \\ back\\slash "product" — ü`;
    const { product } = Product.create({
      id: newId(),
      tenantId: 'acme',
      sku: 'SKU-1',
      name,
      priceCents: 1250,
      currency: 'EUR',
      now,
    });
    await insert(product);
    // The order references its customer (foreign key); the command path creates it on first sight.
    await service.services.commands.updateProfile.handle(principal('ada', 'acme', ['customer']), {
      name: 'Ada',
      email: 'ada@example.com',
    });
    const customer = { tenantId: 'acme', id: 'ada', name: 'Ada', email: 'ada@example.com', version: 2 };
    const { order } = Order.place({
      id: newId(),
      customer,
      requested: [{ productId: product.id, quantity: 800_000 }],
      catalogue: new Map([[product.id, product]]),
      now,
    });
    order.internalNote = 'line one\nline two';

    await insert(order);

    const loaded = await service.services.orm.em.fork().findOneOrFail(Order, { id: order.id });
    const loadedProduct = await service.services.orm.em.fork().findOneOrFail(Product, { id: product.id });
    expect(loaded.snapshot()).to.deep.equal(order.snapshot());
    expect(loaded.totalCents).to.equal(1_000_000_000); // bigint column, number in JS
    expect({ ...loaded }).to.deep.include({ version: 1, authorizationId: null, tenantId: 'acme' });
    expect(loadedProduct.snapshot()).to.deep.equal(product.snapshot());
  });
});
