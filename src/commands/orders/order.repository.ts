import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NotFoundError } from '../../platform/errors.js';
import { Order } from './order.entity.js';

/**
 * Loads an order of the tenant for a change, locking its row until the command commits, so
 * concurrent transitions (a payment result and a cancellation, say) apply one after the other.
 */
export async function orderForUpdate(em: EntityManager, tenantId: string, orderId: string): Promise<Order> {
  const order = await em.findOne(Order, { id: orderId, tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!order) throw new NotFoundError('Order', orderId);
  return order;
}
