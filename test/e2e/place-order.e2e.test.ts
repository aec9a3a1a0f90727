import { expect } from 'chai';
import { createProduct, rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { signRaw, tokenFor } from '../support/tokens.js';

describe('Placing an order end to end (real API, relay and projection workers)', () => {
  let service: TestService;
  let productId: string;
  let token: (sub: string, tenant: string, roles: string[]) => string;

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections'] });
    productId = await createProduct(service.services, 'acme', { name: 'Blue mug', priceCents: 1250 });
    token = (sub, tenant, roles) =>
      tokenFor(service.config, { sub, tenant, roles, name: `${sub} name`, email: `${sub}@example.com` });
  });
  after(() => service.stop());

  async function placeOrder(customer = 'ada', quantity = 2) {
    return http(`${service.url}/v1/orders`, {
      token: token(customer, 'acme', ['customer']),
      body: { lines: [{ productId, quantity }] },
    });
  }

  it('When a customer places an order, then it answers 202 with a command and the order appears in GET /v1/orders/{id}', async () => {
    const started = Date.now();
    const placed = await placeOrder();

    expect(placed.status).to.equal(202);
    expect(placed.headers.get('location')).to.equal(`/v1/commands/${placed.body.commandId}`);
    const read = await http(`${service.url}/v1/orders/${placed.body.orderId}?consistentWith=${placed.body.commandId}`, {
      token: token('ada', 'acme', ['customer']),
    });
    const elapsed = Date.now() - started;

    expect(read.status).to.equal(200);
    expect(read.headers.get('consistency')).to.equal('fresh');
    expect(read.body).to.deep.include({
      id: placed.body.orderId,
      status: 'placed',
      customer: { id: 'ada', name: 'ada name', email: 'ada@example.com' },
      lines: [{ productId, name: 'Blue mug', quantity: 2, unitPriceCents: 1250 }],
      totalCents: 2500,
      currency: 'EUR',
    });
    expect(read.body).not.to.have.any.keys('internalNote', 'riskScore');
    // Fresh means the read waited for the projection (an event), not for time; how fast that is
    // depends on the machine's load, so the only bound asserted is the wait's own.
    expect(elapsed, 'fresh within the read-your-writes bound').to.be.below(service.config.CONSISTENCY_WAIT_MAX);

    const [view] = await rows(service.services, 'select status, total_cents, version from order_view where id = ?', [
      placed.body.orderId,
    ]);
    expect(view).to.deep.equal({ status: 'placed', total_cents: '2500', version: 1 }); // bigint: text from the driver
    const command = await http(`${service.url}/v1/commands/${placed.body.commandId}`, {
      token: token('ada', 'acme', ['customer']),
    });
    expect(command.body).to.include({ status: 'succeeded', type: 'PlaceOrder' });
    expect(command.body.links.order).to.equal(`/v1/orders/${placed.body.orderId}`);
  });

  it('When another customer of the tenant or anyone of another tenant asks for the order, then it is 404; staff see it with internal fields', async () => {
    const placed = await placeOrder();
    const url = `${service.url}/v1/orders/${placed.body.orderId}?consistentWith=${placed.body.commandId}`;

    const bob = await http(url, { token: token('bob', 'acme', ['customer']) });
    const foreignStaff = await http(url, { token: token('sam', 'globex', ['staff']) });
    const staff = await http(url, { token: token('sam', 'acme', ['staff']) });

    expect(bob.status).to.equal(404);
    expect(bob.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(bob.body.type).to.equal('/problems/order.not-found');
    expect(foreignStaff.status).to.equal(404);
    expect(staff.status).to.equal(200);
    expect(staff.body).to.include({ internalNote: null, riskScore: null });
  });

  it('When customers list orders, then each sees only their own; the list follows keyset pages', async () => {
    const mine = [await placeOrder('cleo'), await placeOrder('cleo'), await placeOrder('cleo')];
    await placeOrder('dan');
    // consistentWith waits for one command's events: the read model may apply cleo's orders in any order.
    for (const placed of mine.slice(0, -1))
      await http(`${service.url}/v1/orders/${placed.body.orderId}?consistentWith=${placed.body.commandId}`, {
        token: token('cleo', 'acme', ['customer']),
      });
    const consistent = `consistentWith=${mine.at(-1)!.body.commandId}`;

    const first = await http(`${service.url}/v1/orders?limit=2&${consistent}`, { token: token('cleo', 'acme', ['customer']) });
    const second = await http(`${service.url}/v1/orders?limit=2&cursor=${first.body.nextCursor}`, {
      token: token('cleo', 'acme', ['customer']),
    });

    const ids = [...first.body.items, ...second.body.items].map((order: { id: string }) => order.id);
    expect(ids).to.deep.equal(mine.map((placed) => placed.body.orderId).reverse());
    expect(second.body.nextCursor).to.equal(null);
  });

  it('When there is no token, or a bad one, then the answer is 401 problem+json and nothing is written', async () => {
    const before = await rows(service.services, 'select count(*)::int as n from orders');
    const none = await http(`${service.url}/v1/orders`, { body: { lines: [{ productId, quantity: 1 }] } });
    const expired = await http(`${service.url}/v1/orders`, {
      token: signRaw(service.config, {
        sub: 'ada',
        tenant: 'acme',
        roles: ['customer'],
        iss: service.config.JWT_ISSUER,
        aud: service.config.JWT_AUDIENCE,
        exp: Math.floor(Date.now() / 1000) - 120,
      }),
      body: { lines: [{ productId, quantity: 1 }] },
    });

    expect([none.status, expired.status]).to.deep.equal([401, 401]);
    expect(none.headers.get('www-authenticate')).to.equal('Bearer');
    expect(none.body.type).to.equal('/problems/auth.unauthenticated');
    expect(await rows(service.services, 'select count(*)::int as n from orders')).to.deep.equal(before);
  });

  it('When the body is malformed, then the answer is 400 problem+json naming the offending fields, and nothing is written', async () => {
    const ada = token('ada', 'acme', ['customer']);
    const before = await rows(service.services, 'select count(*)::int as n from outbox_events');

    const badFields = await http(`${service.url}/v1/orders`, {
      token: ada,
      body: { lines: [{ productId: 'nope', quantity: 0 }], tenantId: 'globex' },
    });
    const notJson = await http(`${service.url}/v1/orders`, { token: ada, rawBody: '{"lines": [' });
    const empty = await http(`${service.url}/v1/orders`, { token: ada, body: { lines: [] } });

    expect(badFields.status).to.equal(400);
    expect(badFields.body.errors.map((error: { field: string }) => error.field)).to.have.members([
      'lines[0].productId',
      'lines[0].quantity',
      'body.tenantId',
    ]);
    expect(notJson.status).to.equal(400);
    expect(notJson.body.type).to.equal('/problems/request.malformed-json');
    expect(empty.status).to.equal(400);
    expect(await rows(service.services, 'select count(*)::int as n from outbox_events')).to.deep.equal(before);
  });

  it('When a staff member tries to place an order, then it is 403 and nothing is written', async () => {
    const before = await rows(service.services, 'select count(*)::int as n from orders');
    const refused = await http(`${service.url}/v1/orders`, {
      token: token('sam', 'acme', ['staff']),
      body: { lines: [{ productId, quantity: 1 }] },
    });
    expect(refused.status).to.equal(403);
    expect(await rows(service.services, 'select count(*)::int as n from orders')).to.deep.equal(before);
  });

  it('When the order names a product of another tenant, then it is 422 (that product does not exist here)', async () => {
    const foreignProduct = await createProduct(service.services, 'globex');
    const refused = await http(`${service.url}/v1/orders`, {
      token: token('ada', 'acme', ['customer']),
      body: { lines: [{ productId: foreignProduct, quantity: 1 }] },
    });
    expect(refused.status).to.equal(422);
    expect(refused.body.type).to.equal('/problems/order.product-unavailable');
  });
});
