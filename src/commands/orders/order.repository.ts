import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NotFoundError } from '../../platform/errors.js';
import { Order, type CatalogueEntry, type CustomerProfile } from './order.entity.js';

/**
 * Loads an order of the tenant for a change, locking its row until the command commits, so
 * concurrent transitions (a payment result and a cancellation, say) apply one after the other.
 */
export async function orderForUpdate(em: EntityManager, tenantId: string, orderId: string): Promise<Order> {
  const order = await em.findOne(Order, { id: orderId, tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!order) throw new NotFoundError('Order', orderId);
  return order;
}

export interface PlacementFacts {
  /** Null the first time the customer is seen. */
  customer: CustomerProfile | null;
  catalogue: Map<string, CatalogueEntry>;
}

/**
 * What placing an order reads, in one round trip: the caller's customer profile and the
 * catalogue entries of the requested products, as plain values (they are only read: no
 * entities, no identity map, nothing for the unit of work to compare at commit).
 */
export async function placementFacts(
  em: EntityManager,
  tenantId: string,
  customerId: string,
  productIds: string[],
): Promise<PlacementFacts> {
  const [row] = await em.execute<Array<{ customer: CustomerProfile | null; products: CatalogueEntry[] }>>(
    `select
       (select json_build_object('tenantId', tenant_id, 'id', id, 'name', name, 'email', email, 'version', version)
          from customers where tenant_id = ? and id = ?) as customer,
       (select coalesce(json_agg(json_build_object('id', id, 'name', name, 'priceCents', price_cents,
                 'currency', currency, 'active', active)), '[]')
          from products where tenant_id = ? and id = any(array[?]::uuid[])) as products`,
    [tenantId, customerId, tenantId, productIds],
  );
  return { customer: row!.customer, catalogue: new Map(row!.products.map((product) => [product.id, product])) };
}
