import { UnrecoverableError, type Job } from 'bullmq';
import type { ExpireOrderHandler } from '../../commands/orders/expire-order.handler.js';
import type { Orm } from '../../platform/db/orm.js';
import { eventFromJob } from '../job-envelope.js';

/**
 * The delayed job scheduled by OrderPlaced: expire the order if it still awaits payment. Nearly
 * every order has been paid (or closed) by then, and an order never returns to `placed`, so one
 * read of its status on the primary settles those without the command's transaction and
 * command record; an order still placed (or not found) goes through the command, which checks
 * again under its lock.
 */
export function expiryHandler(expireOrder: ExpireOrderHandler, orm: Orm) {
  return async (job: Job) => {
    const event = eventFromJob(job.data);
    if (event.type !== 'OrderPlaced') throw new UnrecoverableError(`expiry handles OrderPlaced, not ${event.type}`);
    const { orderId } = event.payload.order;
    const [order] = await orm.em
      .getConnection('write')
      .execute<{ status: string }[]>('select status from orders where tenant_id = ? and id = ?', [event.tenantId, orderId]);
    if (order && order.status !== 'placed') return { expired: false };
    const result = await expireOrder.handle({ tenantId: event.tenantId, orderId });
    return { expired: result.expired };
  };
}
