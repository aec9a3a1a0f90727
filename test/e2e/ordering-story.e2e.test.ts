import { expect } from 'chai';
import type { OrderStatus } from '../../src/events/index.js';
import { FakePaymentGateway } from '../../src/workers/payments/fake-payment-gateway.js';
import {
  GatewayUnavailableError,
  type AuthorizationRequest,
  type PaymentGateway,
  type RefundRequest,
} from '../../src/workers/payments/payment-gateway.js';
import { createHmac } from 'node:crypto';
import { rows } from '../support/fixtures.js';
import { assertWebhookContract } from '../support/webhook-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { eventually, http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** The default fake gateway, except that it cannot be reached for one price: that order will expire. */
class GatewayDownForAmount implements PaymentGateway {
  private readonly fake = new FakePaymentGateway({ latencyMs: 0, declineAboveCents: 5_000, failureRate: 0 });
  constructor(private readonly unreachableAmount: number) {}
  authorize(request: AuthorizationRequest) {
    if (request.amountCents === this.unreachableAmount) return Promise.reject(new GatewayUnavailableError('no answer'));
    return this.fake.authorize(request);
  }
  void(authorizationId: string) {
    return this.fake.void(authorizationId);
  }
  refund(request: RefundRequest) {
    return this.fake.refund(request);
  }
}

describe('The ordering story end to end (every worker role, real PostgreSQL and Redis)', function () {
  this.timeout(30_000);
  let service: TestService;
  let receiver: WebhookReceiver;
  let as: Record<'admin' | 'staff' | 'ada' | 'adaRenamed', string>;

  before(async () => {
    service = await startTestService({
      roles: ['all'],
      env: { ORDER_PAYMENT_TIMEOUT: '1500ms', PAYMENT_ATTEMPTS: '30', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
      overrides: { paymentGateway: new GatewayDownForAmount(777) },
    });
    const token = (sub: string, roles: string[], name?: string) =>
      tokenFor(service.config, { sub, tenant: 'acme', roles, name, email: `${sub}@example.com` });
    as = {
      admin: token('alex', ['admin']),
      staff: token('sam', ['staff']),
      ada: token('ada', ['customer'], 'Ada'),
      adaRenamed: token('ada', ['customer']),
    };
  });
  before(async () => {
    receiver = await startWebhookReceiver(204);
  });
  after(async () => {
    await service.stop();
    await receiver.close();
  });

  const api = (path: string, options: Parameters<typeof http>[1] = {}) => http(`${service.url}${path}`, options);
  const orderStatus = (orderId: string) =>
    eventually(
      async () => {
        const order = await api(`/v1/orders/${orderId}`, { token: as.ada });
        // Not yet projected is a 404 problem, whose `status` is a number: keep waiting.
        return order.status === 200 && order.body.status !== 'placed' && (order.body.status as OrderStatus);
      },
      10_000,
      `order ${orderId} to leave "placed"`,
    );

  it('When products are created, ordered, paid, declined, expired, shipped and renamed, then every read model tells the same story', async () => {
    // An admin creates the catalogue.
    const created = await Promise.all(
      [
        { sku: 'MUG', name: 'Mug', priceCents: 1000, currency: 'EUR' },
        { sku: 'LAMP', name: 'Lamp', priceCents: 4000, currency: 'EUR' },
        { sku: 'ODD', name: 'Odd thing', priceCents: 777, currency: 'EUR' },
      ].map((body) => api('/v1/products', { token: as.admin, body })),
    );
    expect(created.map((response) => response.status)).to.deep.equal([202, 202, 202]);
    const [mug, lamp, odd] = created.map((response) => response.body.productId as string);
    for (const { body } of created) await api(`/v1/products?consistentWith=${body.commandId}`, { token: as.ada });
    const catalogue = await api('/v1/products', { token: as.ada });
    expect(catalogue.body.items.map((product: { sku: string }) => product.sku)).to.have.members(['LAMP', 'MUG', 'ODD']);

    // The admin subscribes an (allow-listed, loopback) endpoint to payments and shipments.
    const subscribed = await api('/v1/webhooks', {
      token: as.admin,
      body: { url: `${receiver.url}/hooks`, eventTypes: ['order.paid', 'order.shipped'] },
    });
    expect(subscribed.status).to.equal(202);
    const { secret } = subscribed.body as { secret: string };

    // A customer places three orders: one will be paid, one declined (8000 > 5000), one will expire.
    const place = (productId: string, quantity: number) =>
      api('/v1/orders', { token: as.ada, body: { lines: [{ productId, quantity }] } });
    const paid = (await place(mug!, 1)).body;
    const declined = (await place(lamp!, 2)).body;
    const expiring = (await place(odd!, 1)).body;

    expect(await orderStatus(paid.orderId)).to.equal('paid');
    expect(await orderStatus(declined.orderId)).to.equal('payment_failed');
    expect(await orderStatus(expiring.orderId)).to.equal('expired');

    // Staff ship the paid one.
    const shipped = await api(`/v1/orders/${paid.orderId}/ship`, { token: as.staff, method: 'POST' });
    expect(shipped.status).to.equal(202);
    const afterShipping = await api(`/v1/orders/${paid.orderId}?consistentWith=${shipped.body.commandId}`, { token: as.ada });
    expect(afterShipping.body.statusHistory.map((change: { status: string }) => change.status)).to.deep.equal([
      'placed',
      'paid',
      'shipped',
    ]);

    // The customer renames themself and every view follows.
    const renamed = await api('/v1/customers/me', {
      token: as.adaRenamed,
      method: 'PUT',
      body: { name: 'Ada King', email: 'ada@king.example' },
    });
    expect(renamed.status).to.equal(202);
    const list = await api(`/v1/orders?consistentWith=${renamed.body.commandId}`, { token: as.ada });
    expect(list.body.items).to.have.length(3);
    expect(list.body.items.map((order: { customer: { name: string } }) => order.customer.name)).to.deep.equal([
      'Ada King',
      'Ada King',
      'Ada King',
    ]);

    // The customer summary and the daily sales are exact.
    const summary = await api('/v1/customers/ada/summary', { token: as.staff });
    expect(summary.body).to.deep.equal({
      customerId: 'ada',
      ordersCount: 3,
      countByStatus: { placed: 0, paid: 0, shipped: 1, payment_failed: 1, expired: 1, cancelled: 0 },
      lifetimeValue: { EUR: 1000 },
      lastOrder: { id: expiring.orderId, placedAt: summary.body.lastOrder.placedAt },
    });
    const today = new Date().toISOString().slice(0, 10);
    const sales = await api(`/v1/reports/daily-sales?from=${today}&to=${today}`, { token: as.admin });
    expect(sales.body.items).to.deep.equal([
      { day: today, currency: 'EUR', ordersCount: 1, revenueCents: 1000, refundsCount: 0, refundedCents: 0, netCents: 1000 },
    ]);

    // The receiver got exactly the subscribed events of the paid order, each correctly signed.
    const deliveries = await eventually(
      async () => (receiver.received.length >= 2 ? receiver.received : undefined),
      10_000,
      'two webhook deliveries',
    );
    const delivered = deliveries.map((delivery) => {
      const timestamp = String(delivery.headers['webhook-timestamp']);
      const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
      expect(delivery.headers['webhook-signature'], 'signature').to.equal(expected);
      assertWebhookContract(delivery);
      const body = JSON.parse(delivery.body) as { type: string; data: { order: { id: string } } };
      return `${body.type} ${body.data.order.id}`;
    });
    expect(delivered).to.have.members([`order.paid ${paid.orderId}`, `order.shipped ${paid.orderId}`]);

    // And the database agrees with what the API said.
    const states = await rows(service.services, 'select id, status from orders order by placed_at');
    expect(states.map((row) => row.status)).to.deep.equal(['shipped', 'payment_failed', 'expired']);
  });
});
