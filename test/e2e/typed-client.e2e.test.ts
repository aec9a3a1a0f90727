import { expect } from 'chai';
import { createApiClient, followCommand, ProblemError, type ApiClient } from '../../clients/typescript/src/index.js';
import { assertContract } from '../support/contract.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** The global fetch, with every response checked against the OpenAPI document on the way. */
async function checkedFetch(request: Request): Promise<Response> {
  const response = await fetch(request);
  const body = await response.clone().text();
  assertContract({ method: request.method, url: request.url, status: response.status, headers: response.headers, body });
  return response;
}

describe('A consumer of the generated TypeScript client (clients/typescript) against the real service', function () {
  this.timeout(60_000);
  let service: TestService;
  let admin: ApiClient;
  let customer: ApiClient;

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections'] });
    const client = (sub: string, roles: string[]) =>
      createApiClient({
        baseUrl: service.url,
        token: () => tokenFor(service.config, { sub, tenant: 'acme', roles, name: `${sub} name`, email: `${sub}@example.com` }),
        fetch: checkedFetch,
      });
    admin = client('alex', ['admin']);
    customer = client('ada', ['customer']);
  });
  after(() => service.stop());

  it('When a customer places an order, follows the command, reads it back and pages their orders, then every step is typed and consistent', async () => {
    const product = await admin.POST('/v1/products', {
      body: { sku: 'CLIENT-1', name: 'Teapot', priceCents: 3100, currency: 'EUR' },
    });
    expect(product.response.status).to.equal(202);
    await followCommand(admin, product.data!.commandId);

    const orderIds: string[] = [];
    for (const quantity of [1, 2, 3]) {
      const placed = await customer.POST('/v1/orders', {
        body: { lines: [{ productId: product.data!.productId, quantity }] },
        params: { header: { 'Idempotency-Key': `client-story-${quantity}` } },
      });
      expect(placed.response.status).to.equal(202);
      expect(placed.response.headers.get('location')).to.equal(`/v1/commands/${placed.data!.commandId}`);
      orderIds.push(placed.data!.orderId);
    }
    const last = orderIds.at(-1)!;

    // Read-your-writes: the order as its command left it, without polling.
    const placedLast = await customer.POST('/v1/orders', {
      body: { lines: [{ productId: product.data!.productId, quantity: 4 }] },
    });
    const read = await customer.GET('/v1/orders/{orderId}', {
      params: { path: { orderId: placedLast.data!.orderId }, query: { consistentWith: placedLast.data!.commandId } },
    });
    expect(read.response.headers.get('consistency')).to.equal('fresh');
    expect(read.data).to.include({ id: placedLast.data!.orderId, totalCents: 4 * 3100, currency: 'EUR' });
    expect(read.data!.lines[0]).to.include({ name: 'Teapot', quantity: 4 });

    const status = await followCommand(customer, placedLast.data!.commandId);
    expect(status.status).to.equal('succeeded');
    expect(status.links.order).to.equal(`/v1/orders/${placedLast.data!.orderId}`);

    // Paging: two at a time, newest first, until nextCursor is null.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await customer.GET('/v1/orders', { params: { query: { limit: 2, ...(cursor ? { cursor } : {}) } } });
      expect(page.data!.items.length).to.be.at.most(2);
      seen.push(...page.data!.items.map((order) => order.id));
      cursor = page.data!.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).to.have.members([...orderIds, placedLast.data!.orderId]);
    expect(seen[0]).to.equal(placedLast.data!.orderId);
    expect(seen).to.include(last);
  });

  it('When a request is refused, then the client gets the problem typed, with its extension members', async () => {
    const invalid = await customer.POST('/v1/orders', { body: { lines: [] } });
    expect(invalid.data).to.equal(undefined);
    expect(invalid.error).to.include({ type: '/problems/request.invalid', status: 400 });
    expect(invalid.error!.errors!.map((e) => e.field)).to.include('body.lines');

    const missing = await customer.GET('/v1/orders/{orderId}', {
      params: { path: { orderId: '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f' } },
    });
    expect(missing.response.status).to.equal(404);
    expect(missing.error).to.include({ type: '/problems/order.not-found', resource: 'Order' });
    expect(() => {
      throw new ProblemError(missing.error!);
    }).to.throw(ProblemError, /404 Not Found/);
  });
});
