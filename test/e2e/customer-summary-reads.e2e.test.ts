import { expect } from 'chai';
import { rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('customer_summary reads only its own read model (real API, relay and projections)', function () {
  this.timeout(30_000);
  let service: TestService;

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections'] });
  });
  after(() => service.stop());

  const tokenOf = (sub: string) => tokenFor(service.config, { sub, tenant: 'acme', roles: ['customer'] });

  it('When a customer without orders saves a profile and reads their summary consistent with it, then it is 200 with zeros, never 404', async () => {
    const token = tokenOf('nova');
    const saved = await http(`${service.url}/v1/customers/me`, {
      method: 'PUT',
      token,
      body: { name: 'Nova', email: 'nova@example.com' },
    });
    expect(saved.status).to.equal(202);

    const summary = await http(`${service.url}/v1/customers/nova/summary?consistentWith=${saved.body.commandId}`, { token });

    expect(summary.status).to.equal(200);
    expect(summary.headers.get('consistency')).to.equal('fresh');
    expect(summary.body).to.deep.include({ customerId: 'nova', ordersCount: 0, lastOrder: null });
  });

  it("When order_view's tables are emptied (the first step of its rebuild), then the summary still answers from its own table", async () => {
    const token = tokenOf('orla');
    const saved = await http(`${service.url}/v1/customers/me`, {
      method: 'PUT',
      token,
      body: { name: 'Orla', email: 'o@example.com' },
    });
    await http(`${service.url}/v1/customers/orla/summary?consistentWith=${saved.body.commandId}`, { token });

    // The rebuilder's first step for order_view, exactly (ProjectionRebuilds, its reset).
    const orderView = service.services.projections.orderView;
    await rows(service.services, `truncate ${orderView.tables.join(', ')}`);
    const summary = await http(`${service.url}/v1/customers/orla/summary`, { token });

    expect(summary.status).to.equal(200);
    expect(summary.body).to.deep.include({ customerId: 'orla', ordersCount: 0 });
  });
});
