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

async function upsertOrder(em: EntityManager, event: OrderEvent): Promise<void> {
  const order = event.payload.order;
  const fromEvent = event.type === 'OrderPlaced' ? event.payload.customer : null;
  const customer = newest(fromEvent, await profileOf(em, event.tenantId, order.customerId));
  await em.execute(
    `insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
       total_cents, currency, status, status_history, internal_note, risk_score, placed_at, updated_at, version)
     values (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?)
     on conflict (id) do update set status = excluded.status, status_history = excluded.status_history,
       internal_note = excluded.internal_note, risk_score = excluded.risk_score,
       updated_at = excluded.updated_at, version = excluded.version
     where order_view.version < excluded.version`,
    [
      order.orderId,
      event.tenantId,
      order.customerId,
      customer.name,
      customer.email,
      customer.version,
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
  await renameOrders(em, event.tenantId, { orderId: order.orderId }, customer);
}

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

async function profileOf(em: EntityManager, tenantId: string, customerId: string): Promise<KnownCustomer | null> {
  const rows = await em.execute<KnownCustomer[]>(
    'select name, email, version from customer_profile_view where tenant_id = ? and customer_id = ?',
    [tenantId, customerId],
  );
  return rows[0] ?? null;
}

function newest(...candidates: (KnownCustomer | null)[]): KnownCustomer {
  const known = candidates.filter((candidate): candidate is KnownCustomer => candidate !== null);
  return known.sort((a, b) => b.version - a.version)[0] ?? { name: '', email: '', version: 0 };
}
