/**
 * The raw baseline's `POST /v1/orders`, by hand: the 8 SQL round trips the service sent at the
 * starting commit (captured from PostgreSQL's statement log), through a plain `pg` client. Used by
 * the raw API (raw-api.ts) and by test/bench/place-order-cpu.ts, so both measure the same work.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface RawCaller {
  id: string;
  tenant: string;
  name: string;
  email: string;
}

export interface RawLine {
  productId: string;
  quantity: number;
}

/** Places an order in one transaction: the customer (created on first sight), products, outbox, command log, order, NOTIFY. */
export async function placeOrderRaw(
  pool: pg.Pool,
  caller: RawCaller,
  lines: RawLine[],
): Promise<{ commandId: string; orderId: string }> {
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
    return { commandId, orderId };
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}
