import { Customer } from '../../src/commands/customers/customer.entity.js';
import { Order } from '../../src/commands/orders/order.entity.js';
import type { Services } from '../../src/composition-root.js';
import type { DomainEvent } from '../../src/events/index.js';
import { newId } from '../../src/platform/ids.js';
import type { Principal, Role } from '../../src/policies/principal.js';

export const principal = (id: string, tenantId: string, roles: Role[], extra: Partial<Principal> = {}): Principal => ({
  id,
  tenantId,
  roles,
  ...extra,
});

let skuCounter = 0;

/** Creates a product through the real command path and returns its id. */
export async function createProduct(
  services: Services,
  tenantId: string,
  product: Partial<{ sku: string; name: string; priceCents: number; currency: string }> = {},
): Promise<string> {
  const accepted = await services.commands.createProduct.handle(principal('admin-1', tenantId, ['admin']), {
    sku: product.sku ?? `SKU-${++skuCounter}-${Date.now()}`,
    name: product.name ?? 'Test product',
    priceCents: product.priceCents ?? 1000,
    currency: product.currency ?? 'EUR',
  });
  return accepted.aggregateId;
}

/** Rows of a table, as plain objects (state assertions). */
export function rows<T = Record<string, unknown>>(services: Services, sql: string, params: unknown[] = []): Promise<T[]> {
  return services.orm.em.fork().execute<T[]>(sql, params);
}

/** A new event as the outbox would hand it to a consumer: its envelope (id, tenant, time), no command, no trace. */
export function storedEvent(event: object, tenantId: string, at: Date): DomainEvent {
  return {
    ...event,
    id: newId(),
    position: '0',
    tenantId,
    commandId: null,
    occurredAt: at.toISOString(),
    traceContext: null,
  } as DomainEvent;
}

/** A customer of `tenantId` as the write side loads it (version 1), to build events with. */
export function customerOf(id: string, { tenantId = 'acme', name = id } = {}): Customer {
  return Object.assign(new Customer(), { tenantId, id, name, email: `${id}@x.example`, version: 1 });
}

/** The OrderPlaced of `buyer` for one line of a product of its own, as the projections receive it. */
export function placedOrderEvent(buyer: Customer, at: Date): DomainEvent {
  const productId = newId();
  const catalogue = new Map([[productId, { id: productId, name: 'Mug', priceCents: 500, currency: 'EUR', active: true }]]);
  const { event } = Order.place({
    id: newId(),
    customer: buyer,
    requested: [{ productId, quantity: 1 }],
    catalogue: catalogue as never,
    now: at,
  });
  return storedEvent(event, buyer.tenantId, at);
}
