import type { OrderEvent } from '../../events/index.js';
import { sqlProjection } from '../shared/projection.js';

/**
 * Rows per tenant, day and currency: concurrent payments of one tenant lock different rows. Each
 * row is a lock key (`lockKeys`), so a batch of payments holds several of them until its commit:
 * the more rows, the less two batches share one. The report sums at most this many rows per day.
 */
export const DAILY_SALES_SHARDS = 64;

/**
 * daily_sales per tenant, UTC day and currency: paid orders by the day of payment, refunds by
 * the day of the refund. Counting, so inbox-protected; the increments commute. Each order counts
 * in one of DAILY_SALES_SHARDS rows (chosen from its id, so a rebuild writes the same rows) and
 * the report sums them: one row per tenant and day was a lock every payment of the tenant
 * queued on, held through each projection's commit.
 */
export const dailySalesProjection = sqlProjection({
  name: 'daily_sales',
  eventTypes: ['OrderPaid', 'OrderCancelled'],
  tables: ['daily_sales'],

  // The row it adds to is shared with other orders of the day: batches wait for it rather than deadlock on it.
  lockKeys(event) {
    const sale = saleOf(event as OrderEvent);
    return sale ? [`daily_sales:${sale.day}:${sale.currency}:${sale.shard}`] : [];
  },

  statements(event, when) {
    const sale = saleOf(event as OrderEvent);
    if (!sale) return [];
    const sql = `insert into daily_sales (tenant_id, day, currency, shard, orders_count, revenue_cents, refunds_count, refunded_cents)
       select ?, ?, ?, ?, ?, ?, ?, ? where ${when}
       on conflict (tenant_id, day, currency, shard) do update set
         orders_count = daily_sales.orders_count + excluded.orders_count,
         revenue_cents = daily_sales.revenue_cents + excluded.revenue_cents,
         refunds_count = daily_sales.refunds_count + excluded.refunds_count,
         refunded_cents = daily_sales.refunded_cents + excluded.refunded_cents`;
    const { day, currency, shard, change } = sale;
    return [
      { sql, params: [event.tenantId, day, currency, shard, change.orders, change.revenue, change.refunds, change.refunded] },
    ];
  },
});

/** The row an event adds to (its tenant's), and what it adds; null when it moves no money. */
function saleOf(event: OrderEvent) {
  const { order } = event.payload;
  const sale = event.type === 'OrderPaid' ? { orders: 1, revenue: order.totalCents, refunds: 0, refunded: 0 } : null;
  const refundedCents = event.type === 'OrderCancelled' ? event.payload.refundedCents : 0;
  const refund = refundedCents > 0 ? { orders: 0, revenue: 0, refunds: 1, refunded: refundedCents } : null;
  const change = sale ?? refund;
  if (!change) return null; // a cancellation before payment moves no money
  // The UTC day of this transition.
  return { day: order.updatedAt.slice(0, 10), currency: order.currency, shard: shardOf(order.orderId), change };
}

/** The order's row among its day's: from the id's last hex digits (random in a UUIDv7), the same on every replay. */
function shardOf(orderId: string): number {
  return Number.parseInt(orderId.slice(-4), 16) % DAILY_SALES_SHARDS;
}
