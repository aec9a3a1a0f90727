/**
 * `npm run bench`: throughput and latency of the real service on this machine's PostgreSQL and
 * Redis, in its own database and queue prefix (never the dev data). Prints a summary and writes
 * bench-results/latest.json. Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (20),
 * BENCH_ROLES (worker roles in the same process, default all; `none` measures the API's
 * command path alone and skips the phases that need projections), DATABASE_URL / REDIS_URL (the
 * servers to use; defaults are the local ones).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createProduct, rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { startTestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const apiOnly = process.env.BENCH_ROLES === 'none';

const service = await startTestService({
  roles: apiOnly ? [] : (process.env.BENCH_ROLES ?? 'all').split(','),
  env: {
    LOG_LEVEL: 'error',
    PAYMENT_LATENCY: '0ms',
    RATE_LIMIT_POINTS: '100000000',
    WORKER_CONCURRENCY: '20',
    DATABASE_POOL_MAX: '20',
  },
});
const results: Record<string, unknown> = { seconds, connections, node: process.version, at: new Date().toISOString() };
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

try {
  const productId = await createProduct(service.services, 'bench', { priceCents: 100 });
  const customers = Array.from({ length: 50 }, (_, i) =>
    tokenFor(service.config, { sub: `c${i}`, tenant: 'bench', roles: ['customer'] }),
  );
  const body = JSON.stringify({ lines: [{ productId, quantity: 1 }] });

  // 1. Commands: POST /v1/orders from 50 customers.
  let next = 0;
  const accepted: string[] = []; // order ids from 202 answers
  const writes = await autocannon({
    url: `${service.url}/v1/orders`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          body,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${customers[next++ % customers.length]}` },
        }),
        onResponse: (status, responseBody) => {
          if (status === 202) accepted.push((JSON.parse(responseBody) as { orderId: string }).orderId);
        },
      },
    ],
  });
  results.placeOrder = summarize(writes);

  // Without workers nothing projects: an API-only run stops after the command phase.
  if (!apiOnly) {
    // 2. Every accepted order must reach order_view exactly once: nothing lost, nothing doubled.
    // (autocannon stops counting at the deadline while late answers still arrive, so the committed
    // orders, not the 202s it saw, are what must all be projected.)
    const settleStarted = Date.now();
    const [committed] = await rows<{ n: string }>(service.services, "select count(*) as n from orders where tenant_id = 'bench'");
    const committedOrders = Number(committed!.n);
    await eventually(
      async () => {
        const [row] = await rows<{ n: string }>(service.services, 'select count(*) as n from order_view');
        return Number(row!.n) >= committedOrders;
      },
      120_000,
      'every committed order to be projected',
    );
    const [projected] = await rows<{ n: string; distinct_ids: string }>(
      service.services,
      'select count(*) as n, count(distinct id) as distinct_ids from order_view',
    );
    const [unpublished] = await rows<{ n: string }>(
      service.services,
      'select count(*) as n from outbox_events where published_at is null',
    );
    const missing = await rows(
      service.services,
      'select id from orders o where not exists (select 1 from order_view v where v.id = o.id)',
    );
    results.consistency = {
      answered202: accepted.length,
      committedOrders,
      projected: Number(projected!.n),
      lost: missing.length,
      duplicated: Number(projected!.n) - Number(projected!.distinct_ids),
      unpublishedAfterSettle: Number(unpublished!.n),
      settleMs: Date.now() - settleStarted,
    };

    // 3. Queries: GET /v1/orders/{id} (the read model).
    const orderId = accepted[0]!;
    const owner = (
      await rows<{ customer_id: string }>(service.services, 'select customer_id from order_view where id = ?', [orderId])
    )[0]!.customer_id;
    const reads = await autocannon({
      url: `${service.url}/v1/orders/${orderId}`,
      connections,
      duration: seconds,
      headers: { authorization: `Bearer ${tokenFor(service.config, { sub: owner, tenant: 'bench', roles: ['customer'] })}` },
    });
    results.getOrder = summarize(reads);

    // 4. Write-to-read latency: 202 until the order is readable (read-your-writes), one at a time.
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      const placed = await http(`${service.url}/v1/orders`, { token: customers[i % customers.length], body: JSON.parse(body) });
      const read = await http(`${service.url}/v1/orders/${placed.body.orderId}?consistentWith=${placed.body.commandId}`, {
        token: customers[i % customers.length],
      });
      if (read.headers.get('consistency') === 'fresh') samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    results.commandToReadModelMs = {
      samples: samples.length,
      p50: pct(samples, 50),
      p95: pct(samples, 95),
      p99: pct(samples, 99),
      max: samples.at(-1),
    };
  }
} finally {
  results.peakRssMb = Math.round(peakRss / 1024 / 1024);
  clearInterval(sampler);
  await service.stop();
}

mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));

function summarize(result: autocannon.Result) {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

function pct(sorted: number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 10) / 10;
}
