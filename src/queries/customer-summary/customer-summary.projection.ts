import type { CustomerEvent, OrderEvent, OrderStatus } from '../../events/index.js';
import { ORDER_EVENT_TYPES } from '../../events/index.js';
import { sqlProjection, type ProjectionStatement } from '../shared/projection.js';

interface SummaryDelta {
  orders: number;
  byStatus: Partial<Record<OrderStatus, number>>;
  lifetimeValue: Record<string, number>;
  lastOrder: { id: string; placedAt: string } | null;
}

/**
 * customer_summary counts, so it is protected against redelivery by the inbox and applies
 * deltas that commute (increments, sums, the latest order by date): any arrival order of the
 * same events gives the same row. It also follows profile changes, so a customer without orders
 * is known from its own table: the summary never reads another read model's tables (whose
 * rebuild would empty them under it) and read-your-writes waits on exactly what it reads.
 */
export const customerSummaryProjection = sqlProjection({
  name: 'customer_summary',
  eventTypes: [...ORDER_EVENT_TYPES, 'CustomerProfileChanged'],
  tables: ['customer_summary'],

  // One row per customer: only that customer's events write it.
  lockKeys(event) {
    const customerId =
      event.type === 'CustomerProfileChanged' ? event.payload.profile.customerId : (event as OrderEvent).payload.order.customerId;
    return [`customer:${customerId}`];
  },

  statements(event, when) {
    if (event.type === 'CustomerProfileChanged') return [knowCustomer(event, when)];
    const orderEvent = event as OrderEvent;
    const delta = deltaOf(orderEvent);
    const sql = `insert into customer_summary (tenant_id, customer_id, orders_count, count_by_status, lifetime_value, last_order_id, last_order_at)
       select ?, ?, ?, ?::jsonb, ?::jsonb, ?, ? where ${when}
       on conflict (tenant_id, customer_id) do update set
         orders_count = customer_summary.orders_count + excluded.orders_count,
         count_by_status = jsonb_sum(customer_summary.count_by_status, excluded.count_by_status),
         lifetime_value = jsonb_sum(customer_summary.lifetime_value, excluded.lifetime_value),
         last_order_id = case when excluded.last_order_at > customer_summary.last_order_at or customer_summary.last_order_at is null
                              then coalesce(excluded.last_order_id, customer_summary.last_order_id) else customer_summary.last_order_id end,
         last_order_at = greatest(customer_summary.last_order_at, excluded.last_order_at)`;
    const params = [
      event.tenantId,
      orderEvent.payload.order.customerId,
      delta.orders,
      JSON.stringify(delta.byStatus),
      JSON.stringify(delta.lifetimeValue),
      delta.lastOrder?.id ?? null,
      delta.lastOrder?.placedAt ?? null,
    ];
    return [{ sql, params }];
  },
});

/** A customer with a profile has a summary, all zeros until their first order. */
function knowCustomer(event: CustomerEvent, when: string): ProjectionStatement {
  return {
    sql: `insert into customer_summary (tenant_id, customer_id) select ?, ? where ${when} on conflict do nothing`,
    params: [event.tenantId, event.payload.profile.customerId],
  };
}

/** What one event changes: a new order counts once; a transition moves one order between statuses. */
function deltaOf(event: OrderEvent): SummaryDelta {
  const { order } = event.payload;
  if (event.type === 'OrderPlaced') {
    return { orders: 1, byStatus: { placed: 1 }, lifetimeValue: {}, lastOrder: { id: order.orderId, placedAt: order.placedAt } };
  }
  const previous = order.statusHistory.at(-2)?.status;
  const byStatus: SummaryDelta['byStatus'] = { [order.status]: 1, ...(previous ? { [previous]: -1 } : {}) };
  const value =
    event.type === 'OrderPaid' ? order.totalCents : event.type === 'OrderCancelled' ? -event.payload.refundedCents : 0;
  return { orders: 0, byStatus, lifetimeValue: value ? { [order.currency]: value } : {}, lastOrder: null };
}
