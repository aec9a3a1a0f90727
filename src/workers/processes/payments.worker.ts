import { UnrecoverableError, type Job } from 'bullmq';
import type { RecordPaymentHandler } from '../../commands/orders/record-payment.handler.js';
import type { OrderSnapshot } from '../../events/index.js';
import { eventFromJob } from '../job-envelope.js';
import { GatewayUnavailableError, type PaymentDecision, type PaymentGateway } from '../payments/payment-gateway.js';

/**
 * On OrderPlaced: authorize the total with the gateway, then report the answer through the
 * command path. Transient gateway failures retry with backoff; when the attempts run out the
 * order is marked payment_failed. An authorization for an order that stopped waiting (expired,
 * cancelled) is voided.
 */
export function paymentsHandler(recordPayment: RecordPaymentHandler, gateway: PaymentGateway) {
  return async (job: Job) => {
    const event = eventFromJob(job.data);
    if (event.type !== 'OrderPlaced') throw new UnrecoverableError(`payments handles OrderPlaced, not ${event.type}`);
    const { order } = event.payload;

    const decision = await authorize(gateway, order, event.tenantId, job);
    const recorded = await recordPayment.handle({ tenantId: event.tenantId, orderId: order.orderId, outcome: decision });
    if (decision.approved && !recorded.applied && !recorded.wasPaid) await gateway.void(decision.authorizationId);
    return { approved: decision.approved, applied: recorded.applied };
  };
}

async function authorize(gateway: PaymentGateway, order: OrderSnapshot, tenantId: string, job: Job): Promise<PaymentDecision> {
  const attempt = job.attemptsMade + 1;
  try {
    return await gateway.authorize({
      orderId: order.orderId,
      tenantId,
      amountCents: order.totalCents,
      currency: order.currency,
      attempt,
    });
  } catch (error) {
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    if (error instanceof GatewayUnavailableError && lastAttempt) {
      return { approved: false, reason: `payment gateway unavailable after ${attempt} attempts` };
    }
    throw error;
  }
}
