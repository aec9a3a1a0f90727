/**
 * The command path alone: CPU ms per `placeOrder` handler call in this process (no HTTP, no
 * tracing), 20 at a time, against the raw benchmark handler's 8 statements through a plain `pg`
 * pool in the same process, interleaved. Under the 2-core machine's noise, CPU per order moves
 * far less than orders per second. `--project-only` skips the raw side.
 * `DATABASE_URL=... REDIS_URL=... node_modules/.bin/node --import tsx test/bench/place-order-cpu.ts [rounds] [orders]`
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createProduct } from '../support/fixtures.js';
import { startTestService } from '../support/test-service.js';
import type { Principal } from '../../src/policies/principal.js';

const projectOnly = process.argv.includes('--project-only');
const [rounds = 3, n = 2000] = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'))
  .map(Number);
const concurrency = 20;
const service = await startTestService({ api: false });
const tenant = 'bench';
const productId = await createProduct(service.services, tenant);
const customers: Principal[] = Array.from({ length: 50 }, (_, i) => ({
  id: `c${i}`,
  tenantId: tenant,
  roles: ['customer'],
  name: `Customer c${i}`,
  email: `c${i}@bench.test`,
}));
const pool = new pg.Pool({ connectionString: service.config.DATABASE_URL, max: 10 });

async function project(i: number) {
  await service.services.commands.placeOrder.handle(customers[i % 50]!, { lines: [{ productId, quantity: 1 }] });
}

async function raw(i: number) {
  const caller = customers[i % 50]!;
  const lines = [{ productId, quantity: 1 }];
  const client = await pool.connect();
  try {
    await client.query('begin');
    const now = new Date();
    const commandId = randomUUID();
    const known = await client.query('select * from customers where tenant_id = $1 and id = $2 limit 1', [
      caller.tenantId,
      caller.id,
    ]);
    const customer = known.rows[0] ?? { name: caller.name, email: caller.email };
    const products = await client.query('select * from products where tenant_id = $1 and id = any($2::uuid[])', [
      caller.tenantId,
      lines.map((line) => line.productId),
    ]);
    const byId = new Map(products.rows.map((product) => [product.id as string, product]));
    const priced = lines.map((line) => {
      const product = byId.get(line.productId);
      return { productId: line.productId, name: product.name, quantity: line.quantity, unitPriceCents: product.price_cents };
    });
    const orderId = randomUUID();
    const total = priced.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
    const history = [{ status: 'placed', at: now.toISOString() }];
    const snapshot = { orderId, customerId: caller.id, lines: priced, totalCents: total, currency: 'EUR', status: 'placed' };
    await client.query(
      `insert into outbox_events (id, tenant_id, type, schema_version, aggregate_type, aggregate_id, aggregate_version,
         command_id, payload, trace_context, occurred_at, published_at)
       values ($1, $2, 'OrderPlaced', 1, 'Order', $3::text, 1, $4, $5, null, $6, null)`,
      [
        randomUUID(),
        caller.tenantId,
        orderId,
        commandId,
        { order: snapshot, customer: { name: customer.name, email: customer.email } },
        now,
      ],
    );
    await client.query(
      `insert into command_log (id, tenant_id, principal_id, type, status, aggregate_type, aggregate_id, error, created_at, completed_at)
       values ($1, $2, $3, 'PlaceOrder', 'accepted', 'Order', $4, null, $5, null)`,
      [commandId, caller.tenantId, caller.id, orderId, now],
    );
    await client.query(
      `insert into orders (id, tenant_id, customer_id, lines, total_cents, currency, status, status_history,
         internal_note, risk_score, version, placed_at, updated_at)
       values ($1, $2, $3, $4, $5, 'EUR', 'placed', $6, null, null, 1, $7, $7)`,
      [orderId, caller.tenantId, caller.id, JSON.stringify(priced), total, JSON.stringify(history), now],
    );
    await client.query(`select pg_notify('outbox_events', '')`);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

async function measure(fn: (i: number) => Promise<void>, count: number) {
  let next = 0;
  const started = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await fn(i);
    }),
  );
  const used = process.cpuUsage(started);
  return { cpuMs: (used.user + used.system) / 1000 / count, rps: count / ((performance.now() - t0) / 1000) };
}

try {
  await measure(project, 500);
  await measure(raw, 500);
  const results: Record<string, number[]> = { project: [], raw: [] };
  for (let round = 0; round < rounds; round++) {
    if (projectOnly) {
      const r = await measure(project, n);
      console.log(`round ${round + 1} project: ${r.cpuMs.toFixed(3)} ms CPU/call`);
      continue;
    }
    for (const [name, fn] of round % 2
      ? ([
          ['raw', raw],
          ['project', project],
        ] as const)
      : ([
          ['project', project],
          ['raw', raw],
        ] as const)) {
      const r = await measure(fn, n);
      results[name]!.push(r.cpuMs);
      console.log(`round ${round + 1} ${name}: ${r.cpuMs.toFixed(3)} ms CPU/call, ${r.rps.toFixed(0)}/s`);
    }
  }
  for (const [name, values] of Object.entries(results).filter(([, values]) => values.length)) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `${name}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} ms (${values.map((v) => v.toFixed(3)).join(', ')})`,
    );
  }
} finally {
  await pool.end();
  await service.stop();
}
