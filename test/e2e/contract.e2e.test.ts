import { expect } from 'chai';
import openApiDocument from '../../src/api/generated/swagger.json' with { type: 'json' };
import { eventually, http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

// Every response below is also checked against the OpenAPI document by http() (test/support/contract.ts).
describe('The published contract: conditional GETs and command links (fetch clients, real service)', function () {
  this.timeout(60_000);
  let service: TestService;
  const as = (sub: string, roles: string[], tenant = 'acme') =>
    tokenFor(service.config, { sub, tenant, roles, name: `${sub} name`, email: `${sub}@example.com` });
  const api = (path: string, options: Parameters<typeof http>[1] = {}) => http(`${service.url}${path}`, options);
  const ids: Record<string, string> = {};

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections'], env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
    const admin = as('alex', ['admin']);
    const product = await api('/v1/products', {
      token: admin,
      body: { sku: 'CONTRACT-1', name: 'Mug', priceCents: 900, currency: 'EUR' },
    });
    const order = await api('/v1/orders', {
      token: as('ada', ['customer']),
      body: { lines: [{ productId: product.body.productId, quantity: 1 }] },
    });
    const webhook = await api('/v1/webhooks', {
      token: admin,
      body: { url: 'http://127.0.0.1:9/hook', eventTypes: ['order.placed'] },
    });
    await api(`/v1/orders/${order.body.orderId}?consistentWith=${order.body.commandId}`, { token: admin });
    const rebuild = await api('/v1/admin/projections/product_catalog/rebuild', {
      token: as('olga', ['operator']),
      method: 'POST',
    });
    expect(rebuild.status).to.equal(202);
    // A finished rebuild (and settled queues) keep their representations, hence their ETags, still.
    await eventually(
      async () => (await api(rebuild.headers.get('location')!, { token: as('olga', ['operator']) })).body.finishedAt,
    );
    Object.assign(ids, {
      productId: product.body.productId,
      orderId: order.body.orderId,
      commandId: order.body.commandId,
      webhookId: webhook.body.webhookId,
      customerId: 'ada',
      name: 'product_catalog',
    });
  });
  after(() => service.stop());

  /** Who may read each GET of the document (a 200), with its path parameters filled in. */
  const readers: Record<string, () => { token: string; path: string }> = {
    '/v1/products': () => ({ token: as('ada', ['customer']), path: '/v1/products' }),
    '/v1/products/{productId}': () => ({ token: as('ada', ['customer']), path: `/v1/products/${ids.productId}` }),
    '/v1/orders': () => ({ token: as('ada', ['customer']), path: '/v1/orders' }),
    '/v1/orders/{orderId}': () => ({ token: as('ada', ['customer']), path: `/v1/orders/${ids.orderId}` }),
    '/v1/customers/{customerId}/summary': () => ({ token: as('ada', ['customer']), path: '/v1/customers/ada/summary' }),
    '/v1/commands/{commandId}': () => ({ token: as('ada', ['customer']), path: `/v1/commands/${ids.commandId}` }),
    '/v1/reports/daily-sales': () => ({ token: as('alex', ['admin']), path: '/v1/reports/daily-sales' }),
    '/v1/webhooks': () => ({ token: as('alex', ['admin']), path: '/v1/webhooks' }),
    '/v1/webhooks/{webhookId}': () => ({ token: as('alex', ['admin']), path: `/v1/webhooks/${ids.webhookId}` }),
    '/v1/admin/queues': () => ({ token: as('olga', ['operator']), path: '/v1/admin/queues' }),
    '/v1/admin/projections/{name}/rebuild': () => ({
      token: as('olga', ['operator']),
      path: `/v1/admin/projections/${ids.name}/rebuild`,
    }),
  };

  it('When the test lists the GETs to check, then it names every GET of the document (a new GET must be added here)', () => {
    const documented = Object.entries(openApiDocument.paths)
      .filter(([, operations]) => 'get' in operations)
      .map(([path]) => path);
    expect(Object.keys(readers)).to.have.members(documented);
  });

  for (const [template, reader] of Object.entries(readers)) {
    it(`When a fetch() client repeats GET ${template} with its ETag, then it gets 304 without a body (also with Cache-Control: no-cache)`, async () => {
      const { token, path } = reader();
      // Node's fetch sends `Cache-Control: no-cache` with a manual If-None-Match; browsers do the same.
      const conditionals = (etag: string): Record<string, string>[] => [
        { 'if-none-match': etag },
        { 'if-none-match': `"other", W/${etag}`, 'cache-control': 'no-cache' },
      ];
      // A live representation (queue counts move while jobs finish) may change between two requests:
      // a 200 with a new ETag is then the right answer, and the sequence starts again from it. A 200
      // with the same ETag, or any other answer, fails at once.
      await eventually(
        async () => {
          const first = await api(path, { token });
          expect(first.status).to.equal(200);
          const current = first.headers.get('etag')!;
          expect(current).to.match(/^"[^"]+"$/);
          for (const headers of conditionals(current)) {
            const again = await api(path, { token, headers });
            if (again.status === 200 && again.headers.get('etag') !== current) return false;
            expect(again.status, JSON.stringify(headers)).to.equal(304);
            expect(again.body).to.equal('');
            expect(again.headers.get('etag')).to.equal(current);
          }
          return current;
        },
        10_000,
        `a settled ${template}`,
      );
      const other = await api(path, { token, headers: { 'if-none-match': '"something-else"' } });
      expect(other.status).to.equal(200);
      expect(other.headers.get('etag'), 'a full answer carries its ETag').to.match(/^"[^"]+"$/);
    });
  }

  it('When an answer is not a 200 to a GET, then it carries no ETag (commands and problems are not cacheable representations)', async () => {
    const accepted = await api(`/v1/orders/${ids.orderId}/ship`, { token: as('alex', ['admin']), method: 'POST' });
    expect(accepted.status).to.be.oneOf([202, 409]);
    expect(accepted.headers.get('etag')).to.equal(null);
    const missing = await api('/v1/orders/0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f', { token: as('ada', ['customer']) });
    expect(missing.status).to.equal(404);
    expect(missing.headers.get('etag')).to.equal(null);
  });

  it('When each kind of command has succeeded, then every link of its status resolves to a 200 read for the caller', async () => {
    const admin = as('alex', ['admin']);
    const customer = as('bea', ['customer']);
    const commands = [
      {
        token: admin,
        response: await api('/v1/products', {
          token: admin,
          body: { sku: 'LINK-1', name: 'Cup', priceCents: 1, currency: 'EUR' },
        }),
      },
      {
        token: admin,
        response: await api(`/v1/products/${ids.productId}`, { token: admin, method: 'PATCH', body: { name: 'Big mug' } }),
      },
      {
        token: customer,
        response: await api('/v1/orders', { token: customer, body: { lines: [{ productId: ids.productId, quantity: 2 }] } }),
      },
      {
        token: customer,
        response: await api('/v1/customers/me', {
          token: customer,
          method: 'PUT',
          body: { name: 'Bea', email: 'bea@example.com' },
        }),
      },
      {
        token: admin,
        response: await api('/v1/webhooks', { token: admin, body: { url: 'http://127.0.0.1:9/h', eventTypes: ['order.paid'] } }),
      },
    ];
    const followed: string[] = [];
    for (const { token, response } of commands) {
      expect(response.status).to.equal(202);
      const status = await eventually(
        async () => {
          const read = await api(response.headers.get('location')!, { token });
          return read.body.status === 'succeeded' && read.body;
        },
        15_000,
        `command ${response.body.commandId}`,
      );
      const { self, ...resources } = status.links as Record<string, string>;
      expect(self).to.equal(response.headers.get('location'));
      expect(Object.keys(resources)).to.have.length(1);
      for (const link of Object.values(resources)) {
        const read = await api(link, { token });
        expect(read.status, link).to.equal(200);
        followed.push(link.replace(/\/[^/]+(\/summary)?$/, '/{id}$1'));
      }
    }
    expect(followed).to.have.members([
      '/v1/products/{id}',
      '/v1/products/{id}',
      '/v1/orders/{id}',
      '/v1/customers/{id}/summary',
      '/v1/webhooks/{id}',
    ]);
  });

  it('When another tenant or a role without access reads a product or a webhook by id, then it is 404 (or 403 for a role that sees no webhooks)', async () => {
    const inactive = await api('/v1/products', {
      token: as('alex', ['admin']),
      body: { sku: 'HIDDEN-1', name: 'Hidden', priceCents: 1, currency: 'EUR' },
    });
    const deactivated = await api(`/v1/products/${inactive.body.productId}`, {
      token: as('alex', ['admin']),
      method: 'PATCH',
      body: { active: false },
    });
    const asAdmin = await api(`/v1/products/${inactive.body.productId}?consistentWith=${deactivated.body.commandId}`, {
      token: as('alex', ['admin']),
    });
    expect(asAdmin.status).to.equal(200);
    expect(asAdmin.body).to.include({ sku: 'HIDDEN-1', active: false });
    expect(asAdmin.headers.get('consistency')).to.equal('fresh');

    const cases: [string, string, number][] = [
      [`/v1/products/${ids.productId}`, as('eve', ['admin'], 'globex'), 404],
      [`/v1/products/${inactive.body.productId}`, as('ada', ['customer']), 404],
      [`/v1/webhooks/${ids.webhookId}`, as('eve', ['admin'], 'globex'), 404],
      [`/v1/webhooks/${ids.webhookId}`, as('sam', ['staff']), 403],
      [`/v1/webhooks/${ids.webhookId}`, as('ada', ['customer']), 403],
    ];
    for (const [path, token, status] of cases) {
      const read = await api(path, { token });
      expect(read.status, path).to.equal(status);
      expect(read.headers.get('content-type')).to.match(/^application\/problem\+json/);
    }
    const webhook = await api(`/v1/webhooks/${ids.webhookId}`, { token: as('alex', ['admin']) });
    expect(webhook.body).to.deep.include({ id: ids.webhookId, url: 'http://127.0.0.1:9/hook', eventTypes: ['order.placed'] });
    expect(webhook.body).not.to.have.property('secret');
  });
});
