import type { CustomerEvent, OrderEvent } from '../../events/index.js';
import { ORDER_EVENT_TYPES } from '../../events/index.js';
import { sqlProjection, type Projection, type ProjectionStatement } from '../shared/projection.js';
import type { OrderViewChange } from './order-view.cache.js';

/**
 * order_view copies state, so it is order-tolerant by version: every order event carries the
 * order's snapshot and only a newer aggregate version overwrites the row. Customer name and
 * email follow the profile's own version, kept in customer_profile_view.
 *
 * With `announce`, an order event's change is announced to the order caches after its commit
 * (src/platform/db/notifier.ts says why not in it) and order_view's trigger stays silent for that
 * row; without, the trigger announces it as it does every other writer's.
 */
export function createOrderViewProjection(announce?: (change: OrderViewChange) => void): Projection {
  return sqlProjection({
    name: 'order_view',
    eventTypes: [...ORDER_EVENT_TYPES, 'CustomerProfileChanged'],
    tables: ['order_view', 'customer_profile_view'],

    // An order's row reads its customer's profile, and a profile change rewrites the customer's orders.
    lockKeys(event) {
      const customerId =
        event.type === 'CustomerProfileChanged'
          ? event.payload.profile.customerId
          : (event as OrderEvent).payload.order.customerId;
      return [`customer:${customerId}`];
    },

    statements(event, when) {
      if (event.type === 'CustomerProfileChanged') return followProfile(event, when);
      if (event.aggregateType === 'Order') return [upsertOrder(event as OrderEvent, when, Boolean(announce))];
      return [];
    },

    ...(announce && {
      async afterCommit(event) {
        if (event.aggregateType !== 'Order') return;
        const { payload } = event as OrderEvent;
        announce({
          tenantId: event.tenantId,
          orderId: payload.order.orderId,
          version: event.aggregateVersion,
          customerVersion: event.type === 'OrderPlaced' ? event.payload.customer.version : 0,
        });
      },
    }),
  });
}

/** For readers, which only need its name; the projections worker's own announces after commit (src/queries/index.ts). */
export const orderViewProjection = createOrderViewProjection();

/**
 * One statement: the customer is the newest of the event's (OrderPlaced carries it) and
 * customer_profile_view's; the order's own fields follow the order's version and the customer
 * fields the profile's version, each only forwards.
 */
function upsertOrder(event: OrderEvent, when: string, announcedAfterCommit: boolean): ProjectionStatement {
  const order = event.payload.order;
  const fromEvent = event.type === 'OrderPlaced' ? event.payload.customer : null;
  const sql = `insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
       total_cents, currency, status, status_history, internal_note, risk_score, placed_at, updated_at, version)
     select ?, ?, ?, customer.name, customer.email, customer.version, ?::jsonb, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?
       from (
         select name, email, version from (
           select ?::text as name, ?::text as email, ?::int as version, 0 as preference
           union all
           select name, email, version, 1 from customer_profile_view where tenant_id = ? and customer_id = ?
         ) candidates order by version desc, preference limit 1
       ) customer
      where ${when}${announcedAfterCommit ? ` and set_config('cqrs.order_view_announced', ?::text, true) is not null` : ''}
     on conflict (id) do update set
       status = ${newer('status')}, status_history = ${newer('status_history')},
       internal_note = ${newer('internal_note')}, risk_score = ${newer('risk_score')},
       updated_at = ${newer('updated_at')}, version = greatest(order_view.version, excluded.version),
       customer_name = ${newerCustomer('customer_name')}, customer_email = ${newerCustomer('customer_email')},
       customer_version = greatest(order_view.customer_version, excluded.customer_version)
     where order_view.version < excluded.version or order_view.customer_version < excluded.customer_version`;
  const params = [
    order.orderId,
    event.tenantId,
    order.customerId,
    JSON.stringify(order.lines),
    order.totalCents,
    order.currency,
    order.status,
    JSON.stringify(order.statusHistory),
    order.internalNote,
    order.riskScore,
    order.placedAt,
    order.updatedAt,
    event.aggregateVersion,
    fromEvent?.name ?? '',
    fromEvent?.email ?? '',
    fromEvent?.version ?? 0,
    event.tenantId,
    order.customerId,
    // The trigger's cue (migration 20261130070000): this row's change is announced after the commit.
    ...(announcedAfterCommit ? [order.orderId] : []),
  ];
  return { sql, params };
}

const newer = (column: string) =>
  `case when order_view.version < excluded.version then excluded.${column} else order_view.${column} end`;
const newerCustomer = (column: string) =>
  `case when order_view.customer_version < excluded.customer_version then excluded.${column} else order_view.${column} end`;

/** The profile's own row, and the name on every order of the customer's that shows an older one. */
function followProfile(event: CustomerEvent, when: string): ProjectionStatement[] {
  const { customerId, name, email } = event.payload.profile;
  const version = event.aggregateVersion;
  return [
    {
      sql: `insert into customer_profile_view (tenant_id, customer_id, name, email, version) select ?, ?, ?, ?, ? where ${when}
            on conflict (tenant_id, customer_id) do update set name = excluded.name, email = excluded.email,
              version = excluded.version
            where customer_profile_view.version < excluded.version`,
      params: [event.tenantId, customerId, name, email, version],
    },
    {
      sql: `update order_view set customer_name = ?, customer_email = ?, customer_version = ?
            where tenant_id = ? and customer_id = ? and customer_version < ? and ${when}`,
      params: [name, email, version, event.tenantId, customerId, version],
    },
  ];
}
