/**
 * The command path alone: CPU ms per `placeOrder` handler call in this process (no HTTP, no
 * tracing), 20 at a time, against the raw benchmark handler's 8 statements through a plain `pg`
 * pool in the same process, interleaved. Under the 2-core machine's noise, CPU per order moves
 * far less than orders per second. `--project-only` skips the raw side.
 * `DATABASE_URL=... REDIS_URL=... node_modules/.bin/node --import tsx test/bench/place-order-cpu.ts [rounds] [orders]`
 */
import pg from 'pg';
import { createProduct } from '../support/fixtures.js';
import { startTestService } from '../support/test-service.js';
import type { Principal } from '../../src/policies/principal.js';
import { placeOrderRaw } from './raw/raw-place-order.js';

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

/** The raw benchmark handler's statements (test/bench/raw/raw-place-order.ts), through a plain `pg` pool. */
async function raw(i: number) {
  const caller = customers[i % 50]!;
  await placeOrderRaw(
    pool,
    { id: caller.id, tenant: caller.tenantId, name: caller.name ?? caller.id, email: caller.email ?? '' },
    [{ productId, quantity: 1 }],
  );
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
