import { expect } from 'chai';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('Read models through the API (catalogue cache, ETags, refunds, freshness)', function () {
  this.timeout(30_000);
  let service: TestService;
  let token: (sub: string, roles: string[], tenant?: string) => string;

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections'] });
    token = (sub, roles, tenant = 'acme') => tokenFor(service.config, { sub, tenant, roles });
  });
  after(() => service.stop());
  const api = (path: string, options: Parameters<typeof http>[1] = {}) => http(`${service.url}${path}`, options);

  it('When an admin deactivates a product, then customers stop seeing it at once (the cache is invalidated) while admins still do', async () => {
    const created = await api('/v1/products', {
      token: token('alex', ['admin']),
      body: { sku: 'CACHED-1', name: 'Cached', priceCents: 100, currency: 'EUR' },
    });
    const listed = await api(`/v1/products?consistentWith=${created.body.commandId}`, { token: token('ada', ['customer']) });
    expect(listed.body.items.map((p: { sku: string }) => p.sku)).to.include('CACHED-1');
    await api('/v1/products', { token: token('ada', ['customer']) }); // warms the cache

    const deactivated = await api(`/v1/products/${created.body.productId}`, {
      token: token('alex', ['admin']),
      method: 'PATCH',
      body: { active: false },
    });
    expect(deactivated.status).to.equal(202);
    await api(`/v1/products?consistentWith=${deactivated.body.commandId}`, { token: token('alex', ['admin']) });

    const customerView = await api('/v1/products', { token: token('ada', ['customer']) });
    const adminView = await api('/v1/products', { token: token('alex', ['admin']) });
    expect(customerView.body.items.map((p: { sku: string }) => p.sku)).not.to.include('CACHED-1');
    expect(adminView.body.items.find((p: { sku: string }) => p.sku === 'CACHED-1')).to.include({ active: false });
  });

  it('When a client repeats a GET with If-None-Match, then unchanged data answers 304 and changed data 200 with a new ETag', async () => {
    const first = await api('/v1/products', { token: token('ada', ['customer']) });
    const etag = first.headers.get('etag')!;
    // fetch adds `Cache-Control: no-cache` to it: the origin server still evaluates If-None-Match.
    const conditional = { 'if-none-match': etag };
    const unchanged = await api('/v1/products', { token: token('ada', ['customer']), headers: conditional });
    expect(unchanged.status).to.equal(304);

    const created = await api('/v1/products', {
      token: token('alex', ['admin']),
      body: { sku: 'ETAG-2', name: 'New', priceCents: 1, currency: 'EUR' },
    });
    const changed = await api(`/v1/products?consistentWith=${created.body.commandId}`, {
      token: token('ada', ['customer']),
      headers: conditional,
    });
    expect(changed.status).to.equal(200);
    expect(changed.headers.get('etag')).not.to.equal(etag);
  });

  it('When a customer lists their orders again, then the page answers with the same ETag and 304 to it until an order is added', async () => {
    const productId = await createProduct(service.services, 'acme');
    const uma = token('uma', ['customer']);
    const place = () => api('/v1/orders', { token: uma, body: { lines: [{ productId, quantity: 1 }] } });
    const first = await api(`/v1/orders?consistentWith=${(await place()).body.commandId}`, { token: uma });
    expect(first.headers.get('content-type')).to.equal('application/json; charset=utf-8');
    const etag = first.headers.get('etag')!;

    const again = await api('/v1/orders', { token: uma });
    const unchanged = await api('/v1/orders', { token: uma, headers: { 'if-none-match': etag } });
    expect(again.body).to.deep.equal(first.body);
    expect(again.headers.get('etag')).to.equal(etag);
    expect(unchanged.status).to.equal(304);

    const added = await api(`/v1/orders?consistentWith=${(await place()).body.commandId}`, {
      token: uma,
      headers: { 'if-none-match': etag },
    });
    expect(added.status).to.equal(200);
    expect(added.body.items).to.have.length(2);
    expect(added.headers.get('etag')).not.to.equal(etag);
    expect((await api('/v1/orders', { token: uma })).body.items).to.have.length(2);
  });

  it('When a paid order is cancelled, then it is refunded: the customer summary and daily sales net it out', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 2500 });
    const zoe = principal('zoe', 'acme', ['customer']);
    const placed = await service.services.commands.placeOrder.handle(zoe, { lines: [{ productId, quantity: 2 }] });
    await service.services.commands.recordPayment.handle({
      tenantId: 'acme',
      orderId: placed.aggregateId,
      outcome: { approved: true, authorizationId: 'auth-z' },
    });

    const cancelled = await api(`/v1/orders/${placed.aggregateId}/cancel`, {
      token: token('zoe', ['customer']),
      method: 'POST',
      body: { reason: 'changed my mind' },
    });
    expect(cancelled.status).to.equal(202);
    const order = await api(`/v1/orders/${placed.aggregateId}?consistentWith=${cancelled.body.commandId}`, {
      token: token('zoe', ['customer']),
    });
    expect(order.body.status).to.equal('cancelled');
    expect(order.body.statusHistory.at(-1)).to.include({ status: 'cancelled', reason: 'changed my mind' });

    const summary = await api(`/v1/customers/zoe/summary?consistentWith=${cancelled.body.commandId}`, {
      token: token('zoe', ['customer']),
    });
    expect(summary.body.countByStatus).to.include({ cancelled: 1, paid: 0, placed: 0 });
    expect(summary.body.lifetimeValue).to.deep.equal({});
    const today = new Date().toISOString().slice(0, 10);
    const sales = await api(`/v1/reports/daily-sales?from=${today}&to=${today}&consistentWith=${cancelled.body.commandId}`, {
      token: token('alex', ['admin']),
    });
    const eur = sales.body.items.find((item: { currency: string }) => item.currency === 'EUR');
    expect(eur).to.include({ refundsCount: 1, refundedCents: 5000 });
    expect(eur.netCents).to.equal(eur.revenueCents - eur.refundedCents);

    const [refundEvent] = await rows(
      service.services,
      "select payload->>'refundedCents' as refunded from outbox_events where type = 'OrderCancelled' and aggregate_id = ?",
      [placed.aggregateId],
    );
    expect(refundEvent).to.deep.equal({ refunded: '5000' });

    const again = await api(`/v1/orders/${placed.aggregateId}/cancel`, { token: token('zoe', ['customer']), method: 'POST' });
    expect(again.status).to.equal(409);
    expect(again.body).to.include({ type: '/problems/order.invalid-transition', status: 409, orderStatus: 'cancelled' });
  });

  it('When a read cannot catch up with the command in time, then it answers with the data it has and says it is stale', async () => {
    const productId = await createProduct(service.services, 'acme');
    await service.workers!.stop(); // nothing projects from now on in this service
    const placed = await api('/v1/orders', { token: token('yan', ['customer']), body: { lines: [{ productId, quantity: 1 }] } });

    const started = Date.now();
    const read = await api(`/v1/orders?consistentWith=${placed.body.commandId}`, { token: token('yan', ['customer']) });
    expect(read.status).to.equal(200);
    expect(read.headers.get('consistency')).to.equal('stale');
    expect(Date.now() - started).to.be.within(4_500, 8_000);
    const status = await api(`/v1/commands/${placed.body.commandId}`, { token: token('yan', ['customer']) });
    expect(status.body.status).to.equal('accepted');
  });
});
