import { UnrecoverableError, type Job } from 'bullmq';
import type { ExpireOrderHandler } from '../../commands/orders/expire-order.handler.js';
import { eventFromJob } from '../job-envelope.js';

/** The delayed job scheduled by OrderPlaced: expire the order if it still awaits payment. */
export function expiryHandler(expireOrder: ExpireOrderHandler) {
  return async (job: Job) => {
    const event = eventFromJob(job.data);
    if (event.type !== 'OrderPlaced') throw new UnrecoverableError(`expiry handles OrderPlaced, not ${event.type}`);
    const result = await expireOrder.handle({ tenantId: event.tenantId, orderId: event.payload.order.orderId });
    return { expired: result.expired };
  };
}
