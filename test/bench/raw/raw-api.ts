/**
 * The benchmark's raw baseline for the HTTP side, written by hand: Express 5 + `pg` +
 * `jsonwebtoken`, no framework, no ORM, no tracing, no rate limiting, no access log. It sends the
 * SQL round trips the service sent at the starting commit (captured from PostgreSQL's statement
 * log with `log_statement = all`), so "project / raw" is the cost of everything the template
 * adds on top of the same database work. Compiled with tsconfig.bench.json and run as its own
 * process: `node dist/test/bench/raw/raw-api.js` with PORT, DATABASE_URL, JWT_PUBLIC_KEY,
 * JWT_ISSUER, JWT_AUDIENCE.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
// A careful hand-written service parses its verification key once.
const key = createPublicKey(process.env.JWT_PUBLIC_KEY!);
const verifyOptions: jwt.VerifyOptions = {
  algorithms: ['RS256'],
  issuer: process.env.JWT_ISSUER!,
  audience: process.env.JWT_AUDIENCE!,
};

interface Caller {
  id: string;
  tenant: string;
  name: string;
  email: string;
}

function authenticate(request: Request, response: Response, next: NextFunction): void {
  const token = request.headers.authorization?.slice('Bearer '.length) ?? '';
  try {
    const claims = jwt.verify(token, key, verifyOptions) as JwtPayload;
    response.locals.caller = {
      id: String(claims.sub),
      tenant: claims.tenant,
      name: claims.name ?? claims.sub,
      email: claims.email ?? '',
    } satisfies Caller;
    next();
  } catch {
    response.status(401).json({ title: 'unauthenticated' });
  }
}

const app = express();
app.get('/health/ready', (_request, response) => void response.json({ status: 'ok' }));
app.use('/v1', authenticate, express.json({ limit: '100kb' }));

app.post('/v1/orders', async (request, response) => {
  const caller = response.locals.caller as Caller;
  const lines = (request.body as { lines: Array<{ productId: string; quantity: number }> }).lines;
  const client = await pool.connect();
  try {
    await client.query('begin');
    const now = new Date();
    const commandId = randomUUID();
    const known = await client.query('select * from customers where tenant_id = $1 and id = $2 limit 1', [
      caller.tenant,
      caller.id,
    ]);
    let customer = known.rows[0];
    if (!customer) {
      await client.query(
        `insert into customers (tenant_id, id, name, email, version, created_at, updated_at)
         values ($1, $2, $3, $4, 1, $5, $5) on conflict do nothing returning id`,
        [caller.tenant, caller.id, caller.name, caller.email, now],
      );
      customer = (
        await client.query('select * from customers where tenant_id = $1 and id = $2 limit 1', [caller.tenant, caller.id])
      ).rows[0];
    }
    const products = await client.query('select * from products where tenant_id = $1 and id = any($2::uuid[])', [
      caller.tenant,
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
       values ($1, $2, 'OrderPlaced', 1, 'Order', $3, 1, $4, $5, null, $6, null)`,
      [
        randomUUID(),
        caller.tenant,
        orderId,
        commandId,
        { order: snapshot, customer: { name: customer.name, email: customer.email } },
        now,
      ],
    );
    await client.query(
      `insert into command_log (id, tenant_id, principal_id, type, status, aggregate_type, aggregate_id, error, created_at, completed_at)
       values ($1, $2, $3, 'PlaceOrder', 'accepted', 'Order', $4, null, $5, null)`,
      [commandId, caller.tenant, caller.id, orderId, now],
    );
    await client.query(
      `insert into orders (id, tenant_id, customer_id, lines, total_cents, currency, status, status_history,
         internal_note, risk_score, version, placed_at, updated_at)
       values ($1, $2, $3, $4, $5, 'EUR', 'placed', $6, null, null, 1, $7, $7)`,
      [orderId, caller.tenant, caller.id, JSON.stringify(priced), total, JSON.stringify(history), now],
    );
    await client.query(`select pg_notify('outbox_events', '')`);
    await client.query('commit');
    response.status(202).location(`/v1/commands/${commandId}`).json({ commandId, orderId });
  } catch (error) {
    await client.query('rollback');
    response.status(500).json({ title: String(error) });
  } finally {
    client.release();
  }
});

const toDto = (row: Record<string, unknown>) => ({
  id: row.id,
  status: row.status,
  customer: { id: row.customer_id, name: row.customer_name, email: row.customer_email },
  lines: row.lines,
  totalCents: row.total_cents,
  currency: row.currency,
  placedAt: (row.placed_at as Date).toISOString(),
  updatedAt: (row.updated_at as Date).toISOString(),
  statusHistory: row.status_history,
});

app.get('/v1/orders/:id', async (request, response) => {
  const caller = response.locals.caller as Caller;
  const { rows } = await pool.query('select * from order_view where tenant_id = $1 and customer_id = $2 and id = $3 limit 1', [
    caller.tenant,
    caller.id,
    request.params.id,
  ]);
  if (!rows[0]) return void response.status(404).json({ title: 'not found' });
  response.json(toDto(rows[0]));
});

app.get('/v1/orders', async (request, response) => {
  const caller = response.locals.caller as Caller;
  const limit = Math.min(100, Number(request.query.limit ?? 20));
  const { rows } = await pool.query(
    'select * from order_view where tenant_id = $1 and customer_id = $2 order by placed_at desc, id desc limit $3',
    [caller.tenant, caller.id, limit + 1],
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last
      ? Buffer.from(JSON.stringify([(last.placed_at as Date).toISOString(), last.id])).toString('base64url')
      : null;
  response.json({ items: page.map(toDto), nextCursor });
});

const server = app.listen(Number(process.env.PORT));
process.once('SIGTERM', () => server.close(() => void pool.end()));
