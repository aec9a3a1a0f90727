/**
 * Per-request cost that does not depend on how busy the machine is: the SQL statements and Redis
 * commands each benchmarked request sends, and the statements one order costs end to end (API,
 * relay and every worker role), counted at the clients (`pg.Client#query`, `Redis#sendCommand`)
 * of the service running in this process. Req/s on a shared machine is noise; these counts are not.
 * `DATABASE_URL=... REDIS_URL=... tsx test/bench/round-trips.ts` (prints every statement with `-v`).
 */
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createProduct, rows } from '../support/fixtures.js';
import { startTestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

const verbose = process.argv.includes('-v');
let statements: string[] = [];
let redisCommands: string[] = [];
let redisWrites = 0;
let counting = false;

type Query = (...args: unknown[]) => unknown;
const query = pg.Client.prototype.query as Query;
(pg.Client.prototype as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string };
  const text = typeof first === 'string' ? first : first?.text;
  // The counter's own polling below is not the service's cost.
  if (counting && !String(text).startsWith('select status from order_view /* counter */')) {
    statements.push(String(text).replace(/\s+/g, ' '));
  }
  return query.apply(this, args);
};
type Send = (command: { name: string }, ...rest: unknown[]) => unknown;
const send = (Redis.prototype as unknown as { sendCommand: Send }).sendCommand;
(Redis.prototype as unknown as { sendCommand: Send }).sendCommand = function (this: Redis, command, ...rest) {
  if (counting) redisCommands.push(command.name);
  return send.call(this, command, ...rest);
};

// The relay wakes on NOTIFY alone here: its safety poll would add empty cycles that no order caused.
// Round trips to Redis are socket writes: a pipeline or MULTI sends many commands in one.
const redisPort = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379);
type Write = (...args: unknown[]) => boolean;
const write = Socket.prototype.write as Write;
(Socket.prototype as { write: Write }).write = function (this: Socket, ...args: unknown[]) {
  if (counting && this.remotePort === redisPort) redisWrites++;
  return write.apply(this, args);
};

const service = await startTestService({ roles: ['all'], env: { RELAY_POLL_INTERVAL: '1h' } });
try {
  const tenant = 'counted';
  const productId = await createProduct(service.services, tenant);
  const token = tokenFor(service.config, { sub: 'c1', tenant, roles: ['customer'], name: 'C', email: 'c@example.com' });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const placeOrder = () =>
    fetch(`${service.url}/v1/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ lines: [{ productId, quantity: 1 }] }),
    });
  const settled = async (orderId: string) => {
    for (;;) {
      const [row] = await rows<{ status: string }>(service.services, 'select status from order_view /* counter */ where id = ?', [
        orderId,
      ]);
      if (row?.status === 'paid') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const count = async (label: string, work: () => Promise<void>) => {
    statements = [];
    redisCommands = [];
    redisWrites = 0;
    counting = true;
    await work();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // stragglers (relay cycles, job completions)
    counting = false;
    console.log(`${label}: ${statements.length} SQL statements, ${redisCommands.length} Redis commands in ${redisWrites} writes`);
    if (verbose) for (const statement of statements) console.log(`    ${statement.slice(0, 160)}`);
    if (verbose) console.log(`    Redis: ${redisCommands.join(' ')}`);
  };

  const { orderId } = (await (await placeOrder()).json()) as { orderId: string };
  await settled(orderId); // warm: the customer exists, caches are filled
  await count('one order end to end (API + relay + workers)', async () => {
    const next = (await (await placeOrder()).json()) as { orderId: string };
    await settled(next.orderId);
  });
  const burst = 20;
  await count(`${burst} orders placed at once, end to end (totals; the relay publishes them in batches)`, async () => {
    const placed = await Promise.all(Array.from({ length: burst }, async () => (await placeOrder()).json()));
    for (const order of placed as { orderId: string }[]) await settled(order.orderId);
  });
  await service.workers?.stop();
  const request = (label: string, send: () => Promise<Response>) =>
    count(label, async () => {
      const response = await send();
      await response.arrayBuffer();
      if (response.status >= 300) throw new Error(`${label} answered ${response.status}`);
    });
  await request('POST /v1/orders', placeOrder);
  await request('GET /v1/orders/{id}', () => fetch(`${service.url}/v1/orders/${orderId}`, { headers }));
  await request('GET /v1/orders?limit=20', () => fetch(`${service.url}/v1/orders?limit=20`, { headers }));
} finally {
  await service.stop();
}
