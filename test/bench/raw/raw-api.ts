/**
 * The benchmark's raw baseline for the HTTP side, written by hand: Express 5 + `pg` +
 * `jsonwebtoken`, no framework, no ORM, no tracing, no rate limiting, no access log. It sends the
 * SQL round trips the service sent at the starting commit (captured from PostgreSQL's statement
 * log with `log_statement = all`), so "project / raw" is the cost of everything the template
 * adds on top of the same database work. Compiled with tsconfig.bench.json and run as its own
 * process: `node dist/test/bench/raw/raw-api.js` with PORT, DATABASE_URL, JWT_PUBLIC_KEY,
 * JWT_ISSUER, JWT_AUDIENCE.
 */
import { createPublicKey } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import pg from 'pg';
import { placeOrderRaw, type RawCaller, type RawLine } from './raw-place-order.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
// A careful hand-written service parses its verification key once.
const key = createPublicKey(process.env.JWT_PUBLIC_KEY!);
const verifyOptions: jwt.VerifyOptions = {
  algorithms: ['RS256'],
  issuer: process.env.JWT_ISSUER!,
  audience: process.env.JWT_AUDIENCE!,
};

type Caller = RawCaller;

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
  const lines = (request.body as { lines: RawLine[] }).lines;
  try {
    const { commandId, orderId } = await placeOrderRaw(pool, caller, lines);
    response.status(202).location(`/v1/commands/${commandId}`).json({ commandId, orderId });
  } catch (error) {
    response.status(500).json({ title: String(error) });
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
