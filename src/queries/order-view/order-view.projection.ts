import type { EntityManager } from '@mikro-orm/postgresql';
import type { CustomerEvent, DomainEvent, OrderEvent } from '../../events/index.js';
import { ORDER_EVENT_TYPES } from '../../events/index.js';
import type { Projection } from '../shared/projection.js';

interface KnownCustomer {
  name: string;
  email: string;
  version: number;
}

/**
 * order_view copies state, so it is order-tolerant by version: every order event carries the
 * order's snapshot and only a newer aggregate version overwrites the row. Customer name and
 * email follow the profile's own version, kept in customer_profile_view.
 */
export const orderViewProjection: Projection = {
  name: 'order_view',
  eventTypes: [...ORDER_EVENT_TYPES, 'CustomerProfileChanged'],
  tables: ['order_view', 'customer_profile_view'],

  async apply(em: EntityManager, event: DomainEvent): Promise<void> {
    if (event.type === 'CustomerProfileChanged') return followProfile(em, event);
    if (event.aggregateType === 'Order') return upsertOrder(em, event as OrderEvent);
  },
};

/**
 * One statement: the customer is the newest of the event's (OrderPlaced carries it) and
 * customer_profile_view's; the order's own fields follow the order's version and the customer
 * fields the profile's version, each only forwards.
 */
async function upsertOrder(em: EntityManager, event: OrderEvent): Promise<void> {
  const order = event.payload.order;
  const fromEvent = event.type === 'OrderPlaced' ? event.payload.customer : null;
  await em.execute(
    `with customer as (
       select name, email, version from (
         select ?::text as name, ?::text as email, ?::int as version, 0 as preference
         union all
         select name, email, version, 1 from customer_profile_view where tenant_id = ? and customer_id = ?
       ) candidates order by version desc, preference limit 1
     )
     insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
       total_cents, currency, status, status_history, internal_note, risk_score, placed_at, updated_at, version)
     select ?, ?, ?, customer.name, customer.email, customer.version, ?::jsonb, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?
       from customer
     on conflict (id) do update set
       status = ${newer('status')}, status_history = ${newer('status_history')},
       internal_note = ${newer('internal_note')}, risk_score = ${newer('risk_score')},
       updated_at = ${newer('updated_at')}, version = greatest(order_view.version, excluded.version),
       customer_name = ${newerCustomer('customer_name')}, customer_email = ${newerCustomer('customer_email')},
       customer_version = greatest(order_view.customer_version, excluded.customer_version)
     where order_view.version < excluded.version or order_view.customer_version < excluded.customer_version`,
    [
      fromEvent?.name ?? '',
      fromEvent?.email ?? '',
      fromEvent?.version ?? 0,
      event.tenantId,
      order.customerId,
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
    ],
  );
}

const newer = (column: string) =>
  `case when order_view.version < excluded.version then excluded.${column} else order_view.${column} end`;
const newerCustomer = (column: string) =>
  `case when order_view.customer_version < excluded.customer_version then excluded.${column} else order_view.${column} end`;

async function followProfile(em: EntityManager, event: CustomerEvent): Promise<void> {
  const { customerId, name, email } = event.payload.profile;
  const version = event.aggregateVersion;
  await em.execute(
    `insert into customer_profile_view (tenant_id, customer_id, name, email, version) values (?, ?, ?, ?, ?)
     on conflict (tenant_id, customer_id) do update set name = excluded.name, email = excluded.email,
       version = excluded.version
     where customer_profile_view.version < excluded.version`,
    [event.tenantId, customerId, name, email, version],
  );
  await renameOrders(em, event.tenantId, { customerId }, { name, email, version });
}

async function renameOrders(
  em: EntityManager,
  tenantId: string,
  which: { orderId: string } | { customerId: string },
  customer: KnownCustomer,
): Promise<void> {
  const [column, value] = 'orderId' in which ? ['id', which.orderId] : ['customer_id', which.customerId];
  await em.execute(
    `update order_view set customer_name = ?, customer_email = ?, customer_version = ?
     where tenant_id = ? and ${column} = ? and customer_version < ?`,
    [customer.name, customer.email, customer.version, tenantId, value, customer.version],
  );
}
