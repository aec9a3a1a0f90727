import { expect } from 'chai';
import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import {
  InvalidOrderTransitionError,
  MixedCurrenciesError,
  ProductUnavailableError,
} from '../../src/commands/orders/order.errors.js';
import { Product } from '../../src/commands/products/product.entity.js';

const now = new Date('2026-11-26T10:00:00Z');
const later = new Date('2026-11-26T10:05:00Z');

function product(id: string, priceCents: number, options: { active?: boolean; currency?: string } = {}): Product {
  const { product } = Product.create({
    id,
    tenantId: 't1',
    sku: id,
    name: `Product ${id}`,
    priceCents,
    currency: options.currency ?? 'EUR',
    now,
  });
  if (options.active === false) product.update({ active: false }, now);
  return product;
}

function customer(): Customer {
  return Object.assign(new Customer(), {
    tenantId: 't1',
    id: 'c1',
    name: 'Ada',
    email: 'ada@example.com',
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

function place(lines: { productId: string; quantity: number }[], catalogue: Product[]) {
  return Order.place({
    id: 'o1',
    customer: customer(),
    requested: lines,
    catalogue: new Map(catalogue.map((p) => [p.id, p])),
    now,
  });
}

describe('Order (entity rules)', () => {
  it('When an order is rebuilt from its OrderPlaced event, then it equals the placed order in every property (the payment writes them all back)', () => {
    const { order, event } = place([{ productId: 'p1', quantity: 2 }], [product('p1', 1250)]);

    const rebuilt = Order.asPlaced(order.tenantId, event.payload.order, event.aggregateVersion);

    expect(Object.keys(rebuilt).sort()).to.deep.equal(Object.keys(order).sort());
    for (const key of Object.keys(order) as (keyof Order)[]) expect(rebuilt[key], String(key)).to.deep.equal(order[key]);
  });

  it('When an order is placed, then prices are captured from the catalogue and the total is their sum', () => {
    const { order, event } = place(
      [
        { productId: 'p1', quantity: 2 },
        { productId: 'p2', quantity: 1 },
      ],
      [product('p1', 1250), product('p2', 900)],
    );

    expect(order.totalCents).to.equal(2 * 1250 + 900);
    expect(order.lines).to.deep.equal([
      { productId: 'p1', name: 'Product p1', quantity: 2, unitPriceCents: 1250 },
      { productId: 'p2', name: 'Product p2', quantity: 1, unitPriceCents: 900 },
    ]);
    expect(order.status).to.equal('placed');
    expect(event.type).to.equal('OrderPlaced');
    expect(event.aggregateVersion).to.equal(1);
    expect(event.payload.customer).to.deep.equal({ name: 'Ada', email: 'ada@example.com', version: 1 });
  });

  it('When the same product appears on two lines, then they are merged into one', () => {
    const { order } = place(
      [
        { productId: 'p1', quantity: 2 },
        { productId: 'p1', quantity: 3 },
      ],
      [product('p1', 100)],
    );
    expect(order.lines).to.have.length(1);
    expect(order.lines[0]!.quantity).to.equal(5);
  });

  it('When a product is unknown or inactive, then placing fails naming those products', () => {
    const attempt = () =>
      place(
        [
          { productId: 'p1', quantity: 1 },
          { productId: 'gone', quantity: 1 },
          { productId: 'off', quantity: 1 },
        ],
        [product('p1', 100), product('off', 100, { active: false })],
      );
    expect(attempt)
      .to.throw(ProductUnavailableError)
      .with.property('extensions')
      .that.deep.equals({ productIds: ['gone', 'off'] });
  });

  it('When lines use different currencies, then placing fails', () => {
    expect(() =>
      place(
        [
          { productId: 'a', quantity: 1 },
          { productId: 'b', quantity: 1 },
        ],
        [product('a', 1), product('b', 1, { currency: 'USD' })],
      ),
    ).to.throw(MixedCurrenciesError);
  });

  it('When a placed order is paid then shipped, then each step bumps the version and extends the history', () => {
    const { order } = place([{ productId: 'p1', quantity: 1 }], [product('p1', 100)]);
    const paid = order.pay('auth-1', later);
    const shipped = order.ship(later);

    expect([paid.aggregateVersion, shipped.aggregateVersion]).to.deep.equal([2, 3]);
    expect(order.statusHistory.map((change) => change.status)).to.deep.equal(['placed', 'paid', 'shipped']);
    expect(shipped.payload.order.status).to.equal('shipped');
  });

  it('When a paid order is cancelled, then the whole total is refunded', () => {
    const { order } = place([{ productId: 'p1', quantity: 3 }], [product('p1', 100)]);
    order.pay('auth-1', later);
    expect(order.cancel(later).payload.refundedCents).to.equal(300);
  });

  it('When a placed order is cancelled, then nothing is refunded', () => {
    const { order } = place([{ productId: 'p1', quantity: 3 }], [product('p1', 100)]);
    expect(order.cancel(later).payload.refundedCents).to.equal(0);
  });

  for (const [from, action] of [
    ['placed', 'ship'],
    ['shipped', 'cancel'],
    ['expired', 'pay'],
    ['payment_failed', 'expire'],
  ] as const) {
    it(`When an order that is ${from} is asked to ${action}, then it refuses with order.invalid-transition`, () => {
      const { order } = place([{ productId: 'p1', quantity: 1 }], [product('p1', 100)]);
      order.status = from;
      const act = {
        ship: () => order.ship(later),
        cancel: () => order.cancel(later),
        pay: () => order.pay('a', later),
        expire: () => order.expire(later),
      }[action];

      expect(act).to.throw(InvalidOrderTransitionError).with.property('code', 'order.invalid-transition');
      expect(order.status).to.equal(from);
    });
  }
});
