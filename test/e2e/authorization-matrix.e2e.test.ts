import { expect } from 'chai';
import type { Services } from '../../src/composition-root.js';
import { newId } from '../../src/platform/ids.js';
import { createProduct, principal } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

type Role = 'customer' | 'staff' | 'admin' | 'operator';
type Target = 'own' | 'same tenant' | 'other tenant' | 'missing';
const ROLES: Role[] = ['customer', 'staff', 'admin', 'operator'];
const TARGETS: Target[] = ['own', 'same tenant', 'other tenant', 'missing'];
const CALLER: Record<Role, string> = { customer: 'ada', staff: 'sam', admin: 'alex', operator: 'otto' };

interface Endpoint {
  name: string;
  /** Creates what the request acts on (fresh for commands, so no case depends on another). */
  request(target: Target, role: Role): Promise<{ method: string; path: string; body?: unknown }>;
  /** Expected status per role, per target. */
  expected: Record<Role, Record<Target, number> | number>;
}

/**
 * Every endpoint x role x {own, same tenant, other tenant, missing}, with the exact status.
 * "own" is the caller's own object where that means something (a customer's order), otherwise
 * an object of the caller's tenant; "same tenant" belongs to another customer of the tenant.
 */
describe('Authorization matrix', function () {
  this.timeout(60_000);
  let service: TestService;
  let services: Services;
  let acmeProduct: string;
  let globexProduct: string;

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections'], env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
    services = service.services;
    acmeProduct = await createProduct(services, 'acme');
    globexProduct = await createProduct(services, 'globex');
  });
  after(() => service.stop());

  const token = (role: Role, tenant = 'acme') => tokenFor(service.config, { sub: CALLER[role], tenant, roles: [role] });

  /** An order owned per target; read endpoints wait for it to be projected. */
  async function order(target: Target, role: Role, options: { paid?: boolean; projected?: boolean } = {}): Promise<string> {
    if (target === 'missing') return newId();
    const owner = target === 'own' && role === 'customer' ? 'ada' : target === 'other tenant' ? 'gina' : 'bob';
    const tenant = target === 'other tenant' ? 'globex' : 'acme';
    const product = tenant === 'acme' ? acmeProduct : globexProduct;
    const placed = await services.commands.placeOrder.handle(principal(owner, tenant, ['customer']), {
      lines: [{ productId: product, quantity: 1 }],
    });
    if (options.paid)
      await services.commands.recordPayment.handle({
        tenantId: tenant,
        orderId: placed.aggregateId,
        outcome: { approved: true, authorizationId: 'a' },
      });
    if (options.projected)
      await services.queries.getOrder.handle(principal(owner, tenant, ['customer']), placed.aggregateId, {
        consistentWith: placed.commandId,
      });
    return placed.aggregateId;
  }

  async function product(target: Target): Promise<string> {
    if (target === 'missing') return newId();
    return createProduct(services, target === 'other tenant' ? 'globex' : 'acme');
  }

  async function command(target: Target, role: Role): Promise<string> {
    if (target === 'missing') return newId();
    const who =
      target === 'own'
        ? principal(CALLER[role], 'acme', [role])
        : principal(target === 'other tenant' ? 'gina' : 'bob', target === 'other tenant' ? 'globex' : 'acme', ['customer']);
    const accepted = await services.commands.updateProfile.handle(
      { ...who, roles: ['customer'] },
      { name: 'N', email: 'n@example.com' },
    );
    return accepted.commandId;
  }

  const customerId = async (target: Target, role: Role) => {
    if (target === 'missing') return 'nobody';
    const id = target === 'own' && role === 'customer' ? 'ada' : target === 'other tenant' ? 'gina' : 'bob';
    const tenant = target === 'other tenant' ? 'globex' : 'acme';
    const accepted = await services.commands.updateProfile.handle(principal(id, tenant, ['customer']), {
      name: id,
      email: `${id}@example.com`,
    });
    await services.queries.getCustomerSummary.handle(principal(id, tenant, ['customer']), id, {
      consistentWith: accepted.commandId,
    });
    return id;
  };

  async function webhook(target: Target): Promise<string> {
    if (target === 'missing') return newId();
    const tenant = target === 'other tenant' ? 'globex' : 'acme';
    const accepted = await services.commands.subscribeWebhook.handle(principal('alex', tenant, ['admin']), {
      url: 'http://127.0.0.1:9/hooks',
      eventTypes: ['order.paid'],
    });
    return accepted.aggregateId;
  }

  const seesAllOfTenant = { own: 200, 'same tenant': 200, 'other tenant': 404, missing: 404 };
  const ownOnly = { own: 200, 'same tenant': 404, 'other tenant': 404, missing: 404 };
  const nothing = { own: 404, 'same tenant': 404, 'other tenant': 404, missing: 404 };

  const endpoints: Endpoint[] = [
    {
      name: 'GET /v1/orders/{id}',
      request: async (target, role) => ({ method: 'GET', path: `/v1/orders/${await order(target, role, { projected: true })}` }),
      expected: { customer: ownOnly, staff: seesAllOfTenant, admin: seesAllOfTenant, operator: nothing },
    },
    {
      name: 'POST /v1/orders/{id}/cancel',
      request: async (target, role) => ({ method: 'POST', path: `/v1/orders/${await order(target, role)}/cancel` }),
      expected: {
        customer: { own: 202, 'same tenant': 404, 'other tenant': 404, missing: 404 },
        staff: { own: 202, 'same tenant': 202, 'other tenant': 404, missing: 404 },
        admin: { own: 202, 'same tenant': 202, 'other tenant': 404, missing: 404 },
        operator: nothing,
      },
    },
    {
      name: 'POST /v1/orders/{id}/ship (paid order)',
      request: async (target, role) => ({ method: 'POST', path: `/v1/orders/${await order(target, role, { paid: true })}/ship` }),
      expected: {
        customer: { own: 403, 'same tenant': 404, 'other tenant': 404, missing: 404 },
        staff: { own: 202, 'same tenant': 202, 'other tenant': 404, missing: 404 },
        admin: { own: 202, 'same tenant': 202, 'other tenant': 404, missing: 404 },
        operator: nothing,
      },
    },
    {
      name: 'POST /v1/orders/{id}/ship (unpaid order: the business rule comes after authorization)',
      request: async (target, role) => ({ method: 'POST', path: `/v1/orders/${await order(target, role)}/ship` }),
      expected: {
        customer: { own: 403, 'same tenant': 404, 'other tenant': 404, missing: 404 },
        staff: { own: 409, 'same tenant': 409, 'other tenant': 404, missing: 404 },
        admin: { own: 409, 'same tenant': 409, 'other tenant': 404, missing: 404 },
        operator: nothing,
      },
    },
    {
      name: 'PATCH /v1/products/{id}',
      request: async (target) => ({ method: 'PATCH', path: `/v1/products/${await product(target)}`, body: { priceCents: 1 } }),
      expected: {
        customer: { own: 403, 'same tenant': 403, 'other tenant': 404, missing: 404 },
        staff: { own: 403, 'same tenant': 403, 'other tenant': 404, missing: 404 },
        admin: { own: 202, 'same tenant': 202, 'other tenant': 404, missing: 404 },
        operator: nothing,
      },
    },
    {
      name: 'GET /v1/customers/{id}/summary',
      request: async (target, role) => ({ method: 'GET', path: `/v1/customers/${await customerId(target, role)}/summary` }),
      expected: { customer: ownOnly, staff: seesAllOfTenant, admin: seesAllOfTenant, operator: nothing },
    },
    {
      name: 'GET /v1/commands/{id}',
      request: async (target, role) => ({ method: 'GET', path: `/v1/commands/${await command(target, role)}` }),
      expected: { customer: ownOnly, staff: ownOnly, admin: ownOnly, operator: ownOnly },
    },
    {
      name: 'POST /v1/orders',
      request: async () => ({ method: 'POST', path: '/v1/orders', body: { lines: [{ productId: acmeProduct, quantity: 1 }] } }),
      expected: { customer: 202, staff: 403, admin: 403, operator: 403 },
    },
    {
      name: 'POST /v1/products',
      request: async () => ({
        method: 'POST',
        path: '/v1/products',
        body: { sku: `M-${newId()}`, name: 'M', priceCents: 1, currency: 'EUR' },
      }),
      expected: { customer: 403, staff: 403, admin: 202, operator: 403 },
    },
    {
      name: 'PUT /v1/customers/me',
      request: async () => ({ method: 'PUT', path: '/v1/customers/me', body: { name: 'Me', email: 'me@example.com' } }),
      expected: { customer: 202, staff: 403, admin: 403, operator: 403 },
    },
    {
      name: 'GET /v1/reports/daily-sales',
      request: async () => ({ method: 'GET', path: '/v1/reports/daily-sales' }),
      expected: { customer: 403, staff: 403, admin: 200, operator: 403 },
    },
    {
      name: 'DELETE /v1/webhooks/{id}',
      request: async (target) => ({ method: 'DELETE', path: `/v1/webhooks/${await webhook(target)}` }),
      expected: {
        customer: nothing,
        staff: nothing,
        admin: { own: 202, 'same tenant': 202, 'other tenant': 404, missing: 404 },
        operator: nothing,
      },
    },
    {
      name: 'POST /v1/webhooks',
      request: async () => ({
        method: 'POST',
        path: '/v1/webhooks',
        body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['order.paid'] },
      }),
      expected: { customer: 403, staff: 403, admin: 202, operator: 403 },
    },
    {
      name: 'GET /v1/webhooks',
      request: async () => ({ method: 'GET', path: '/v1/webhooks' }),
      expected: { customer: 403, staff: 403, admin: 200, operator: 403 },
    },
    {
      name: 'GET /v1/admin/queues',
      request: async () => ({ method: 'GET', path: '/v1/admin/queues' }),
      expected: { customer: 403, staff: 403, admin: 403, operator: 200 },
    },
    {
      name: 'POST /v1/admin/queues/{name}/dead-letters/redrive',
      request: async () => ({ method: 'POST', path: '/v1/admin/queues/payments/dead-letters/redrive' }),
      expected: { customer: 403, staff: 403, admin: 403, operator: 200 },
    },
    {
      name: 'GET /v1/products',
      request: async () => ({ method: 'GET', path: '/v1/products' }),
      expected: { customer: 200, staff: 200, admin: 200, operator: 200 },
    },
    {
      name: 'GET /v1/orders',
      request: async () => ({ method: 'GET', path: '/v1/orders' }),
      expected: { customer: 200, staff: 200, admin: 200, operator: 200 },
    },
  ];

  for (const endpoint of endpoints) {
    for (const role of ROLES) {
      const expected = endpoint.expected[role];
      const targets: (Target | null)[] = typeof expected === 'number' ? [null] : TARGETS;
      for (const target of targets) {
        const status = typeof expected === 'number' ? expected : expected[target!];
        it(`When ${role} calls ${endpoint.name}${target ? ` on ${target}` : ''}, then the answer is ${status}`, async () => {
          const request = await endpoint.request(target ?? 'own', role);
          const response = await http(`${service.url}${request.path}`, {
            method: request.method,
            token: token(role),
            body: request.body,
          });
          expect(response.status, JSON.stringify(response.body)).to.equal(status);
          if (status >= 400) expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
        });
      }
    }
  }

  it('When every role lists orders over a multi-tenant data set, then no list holds a row the caller may not see, and staff-only fields appear for staff and admin only', async () => {
    const adaOrder = await order('own', 'customer', { projected: true });
    const bobOrder = await order('same tenant', 'staff', { projected: true });
    const ginaOrder = await order('other tenant', 'customer', { projected: true });
    const allRows = await services.orm.em
      .fork()
      .execute<{ id: string; tenant_id: string; customer_id: string }[]>('select id, tenant_id, customer_id from orders');
    const maySee: Record<Role, (row: { tenant_id: string; customer_id: string }) => boolean> = {
      customer: (row) => row.tenant_id === 'acme' && row.customer_id === 'ada',
      staff: (row) => row.tenant_id === 'acme',
      admin: (row) => row.tenant_id === 'acme',
      operator: () => false,
    };
    const mustInclude: Record<Role, string[]> = {
      customer: [adaOrder],
      staff: [adaOrder, bobOrder],
      admin: [adaOrder, bobOrder],
      operator: [],
    };

    for (const role of ROLES) {
      const listed = await http(`${service.url}/v1/orders?limit=100`, { token: token(role) });
      const ids: string[] = listed.body.items.map((item: { id: string }) => item.id);
      const visible = new Set(allRows.filter(maySee[role]).map((row) => row.id));

      expect(
        ids.filter((id) => !visible.has(id)),
        `${role} sees rows it may not`,
      ).to.deep.equal([]);
      expect(ids, role).to.include.members(mustInclude[role]);
      expect(ids, role).not.to.include(ginaOrder);
      for (const item of listed.body.items) {
        if (role === 'customer') expect(item).not.to.have.any.keys('internalNote', 'riskScore');
        else expect(item).to.include.keys('internalNote', 'riskScore');
      }
    }
  });
});
