import { expect } from 'chai';
import type { Services } from '../../src/composition-root.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { runToEnd } from '../support/processes.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** Every projection, and the tables it owns: taken from the service, so a new read model is covered without editing this test. */
const projectionsOf = (services: Services) => Object.values(services.projections);

/** Every read-model table as text, row by row in key order: what "byte for byte" compares. */
async function snapshot(services: Services): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of projectionsOf(services).flatMap((projection) => projection.tables)) {
    const all = await rows<{ row: string }>(services, `select t::text as row from ${table} t order by t::text`);
    result[table] = all.map((r) => r.row);
  }
  return result;
}

/** Value of one Prometheus series in a /metrics text, or 0 when absent. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('Operations: rebuilds, redrive, metrics, ops CLI', function () {
  this.timeout(60_000);
  let service: TestService;
  let operator: string;

  before(async () => {
    service = await startTestService({
      roles: ['all'],
      env: { ORDER_PAYMENT_TIMEOUT: '300ms', PAYMENT_DECLINE_ABOVE_CENTS: '3000' },
    });
    operator = tokenFor(service.config, { sub: 'otto', tenant: 'acme', roles: ['operator'] });
  });
  after(() => service.stop());

  async function tellAStory(): Promise<void> {
    const { commands } = service.services;
    const cheap = await createProduct(service.services, 'acme', { priceCents: 1000 });
    const dear = await createProduct(service.services, 'acme', { priceCents: 5000 });
    for (const [customer, productId] of [
      ['ada', cheap],
      ['bob', dear],
      ['ada', cheap],
    ] as const) {
      await commands.placeOrder.handle(principal(customer, 'acme', ['customer'], { name: customer }), {
        lines: [{ productId, quantity: 1 }],
      });
    }
    await commands.updateProfile.handle(principal('ada', 'acme', ['customer']), { name: 'Ada King', email: 'ada@king.example' });
    // Wait until the log is fully projected: no unpublished event, no event a projection has yet to see.
    await eventually(
      async () => {
        // Every projection, every event of its types: the profile change reaches order_view last of all.
        const unseen = projectionsOf(service.services)
          .map(
            ({ name, eventTypes }) =>
              `(o.type = any(array[${eventTypes.map((type) => `'${type}'`).join(',')}]) and not exists
                (select 1 from processed_events p where p.event_id = o.id and p.consumer = '${name}'))`,
          )
          .join(' or ');
        const [pending] = await rows<{ n: string }>(
          service.services,
          `select count(*) as n from outbox_events o where o.published_at is null or ${unseen}`,
        );
        const [placed] = await rows<{ n: string }>(service.services, "select count(*) as n from orders where status = 'placed'");
        return Number(pending!.n) === 0 && Number(placed!.n) === 0;
      },
      20_000,
      'the story to settle',
    );
  }

  it('When a projection is rebuilt from the event log, then every read model equals the incrementally built one byte for byte', async () => {
    await tellAStory();
    const incremental = await snapshot(service.services);
    expect(incremental.order_view).to.have.length.greaterThan(2);

    for (const { name } of projectionsOf(service.services)) {
      const started = await http(`${service.url}/v1/admin/projections/${name}/rebuild`, { token: operator, method: 'POST' });
      expect(started.status, name).to.equal(202);
      const done = await eventually(
        async () => {
          const progress = await http(`${service.url}/v1/admin/projections/${name}/rebuild`, { token: operator });
          return progress.body.finishedAt ? progress.body : undefined;
        },
        20_000,
        `the ${name} rebuild`,
      );
      expect(done.applied, name).to.equal(done.total);
    }

    expect(await snapshot(service.services)).to.deep.equal(incremental);
  });

  it('When a rebuild is asked for a projection that does not exist, or by a non-operator, then it is refused', async () => {
    const unknown = await http(`${service.url}/v1/admin/projections/nope/rebuild`, { token: operator, method: 'POST' });
    const admin = await http(`${service.url}/v1/admin/projections/order_view/rebuild`, {
      token: tokenFor(service.config, { sub: 'alex', tenant: 'acme', roles: ['admin'] }),
      method: 'POST',
    });
    expect([unknown.status, admin.status]).to.deep.equal([404, 403]);
  });

  it('When dead letters are redriven, then their jobs leave the dead-letter queue and run again', async () => {
    const queue = service.services.queues.get('order-expiry')!;
    const deadLetters = service.services.deadLetterQueues.get('order-expiry')!;
    // A malformed job is dead-lettered at once...
    await queue.add('OrderPlaced', { not: 'an envelope' }, { jobId: 'broken-expiry' });
    await eventually(async () => (await deadLetters.getJobCountByTypes('waiting')) === 1, 10_000, 'the dead letter');
    const overview = await http(`${service.url}/v1/admin/queues`, { token: operator });
    expect(overview.body.items.find((q: { name: string }) => q.name === 'order-expiry')).to.include({ deadLetters: 1 });

    const redriven = await http(`${service.url}/v1/admin/queues/order-expiry/dead-letters/redrive`, {
      token: operator,
      method: 'POST',
    });

    expect(redriven.body).to.deep.equal({ queue: 'order-expiry', redriven: 1 });
    // ...and, being still malformed, fails once more: the job really ran again.
    const job = await eventually(
      async () => {
        const candidate = await queue.getJob('broken-expiry');
        return candidate && (await candidate.isFailed()) && candidate.attemptsMade === 1 ? candidate : undefined;
      },
      10_000,
      'the redriven job to run',
    );
    expect(job.failedReason).to.match(/not a known event envelope/);
  });

  it('When the system works, then /metrics of the API shows the series moving: requests, jobs, queues, outbox, projections', async () => {
    const before = (await http(`${service.url}/metrics`)).body as string;
    await tellAStory();
    await http(`${service.url}/v1/orders`, {
      token: tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] }),
    });
    const after = (await http(`${service.url}/metrics`)).body as string;

    const route = { method: 'GET', route: '/v1/orders', status_code: '200' };
    expect(metric(after, 'http_server_requests_total', route)).to.be.greaterThan(
      metric(before, 'http_server_requests_total', route),
    );
    expect(metric(after, 'http_server_request_duration_seconds_count', route)).to.be.greaterThan(0);
    // In-process workers share the registry with the API here; in production each process has its own.
    expect(metric(after, 'cqrs_jobs_completed_total', { queue: 'projections' })).to.be.greaterThan(
      metric(before, 'cqrs_jobs_completed_total', { queue: 'projections' }),
    );
    expect(metric(after, 'cqrs_projection_events_applied_total', { projection: 'order_view' })).to.be.greaterThan(
      metric(before, 'cqrs_projection_events_applied_total', { projection: 'order_view' }),
    );
    expect(after).to.match(/^cqrs_queue_jobs\{[^}]*queue="projections"[^}]*state="completed"[^}]*\} [1-9]/m);
    expect(after).to.match(/^cqrs_outbox_backlog_events\{[^}]*\} 0$/m);
    expect(after).to.match(/^cqrs_dependency_up\{[^}]*dependency="postgres"[^}]*\} 1$/m);
    expect(after).to.match(/^cqrs_queue_backlog_jobs\{[^}]*queue="payments"[^}]*\} \d+$/m);
    expect(after).not.to.match(/route="\/v1\/orders\/[0-9a-f]{8}-/, 'raw ids never become labels');
  });

  it('When `npm run ops` lists queues or is misused, then it prints the table or exits non-zero', async () => {
    const env = {
      DATABASE_URL: service.config.DATABASE_URL,
      REDIS_URL: service.config.REDIS_URL,
      QUEUE_PREFIX: service.config.QUEUE_PREFIX,
    };
    const listed = await runToEnd('src/ops/cli.ts', ['queues'], env);
    const wrong = await runToEnd('src/ops/cli.ts', ['redrive', 'no-such-queue'], env);

    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout).to.match(/^projections\s+\d+/m);
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr).to.match(/name a queue/);
  });

  it('When `npm run ops -- rebuild` runs, then it rebuilds; while another rebuild of that projection holds the lock, it is refused', async () => {
    const env = {
      DATABASE_URL: service.config.DATABASE_URL,
      REDIS_URL: service.config.REDIS_URL,
      QUEUE_PREFIX: service.config.QUEUE_PREFIX,
    };
    const rebuild = () => runToEnd('src/ops/cli.ts', ['rebuild', 'daily_sales'], env);

    const done = await rebuild();
    // The lock an HTTP-started rebuild holds while it runs (ProjectionRebuilds).
    await service.services.redis.set(`${service.config.QUEUE_PREFIX}:rebuild:daily_sales:lock`, '1', 'EX', 60);
    const refused = await rebuild();
    await service.services.redis.del(`${service.config.QUEUE_PREFIX}:rebuild:daily_sales:lock`);

    expect(done.status, done.stderr).to.equal(0);
    expect(done.stdout).to.match(/rebuilt daily_sales from \d+ event\(s\)/);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/already running/);
  });
});
