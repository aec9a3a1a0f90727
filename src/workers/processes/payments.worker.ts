import { UnrecoverableError, type Job } from 'bullmq';
import type { RecordPaymentHandler } from '../../commands/orders/record-payment.handler.js';
import type { DomainEvent } from '../../events/index.js';
import { eventFromJob } from '../job-envelope.js';
import { GatewayUnavailableError, type PaymentDecision, type PaymentGateway } from '../payments/payment-gateway.js';

/**
 * The payments process. On OrderPlaced: authorize the total with the gateway, then report the
 * answer through the command path (transient gateway failures retry with backoff; when the
 * attempts run out the order is marked payment_failed; an authorization for an order that stopped
 * waiting is voided). On OrderCancelled of a paid order: refund through the gateway, keyed by the
 * event so a retry or redelivery refunds once.
 */
export function paymentsHandler(recordPayment: RecordPaymentHandler, gateway: PaymentGateway) {
  return async (job: Job) => {
    const event = eventFromJob(job.data);
    if (event.type === 'OrderPlaced') return authorizeOrder(recordPayment, gateway, event, job);
    if (event.type === 'OrderCancelled') return refundOrder(gateway, event);
    throw new UnrecoverableError(`payments handles OrderPlaced and OrderCancelled, not ${event.type}`);
  };
}

async function authorizeOrder(
  recordPayment: RecordPaymentHandler,
  gateway: PaymentGateway,
  event: Extract<DomainEvent, { type: 'OrderPlaced' }>,
  job: Job,
) {
  const { order } = event.payload;
  const decision = await authorize(gateway, event, job);
  const recorded = await recordPayment.handle({
    tenantId: event.tenantId,
    orderId: order.orderId,
    outcome: decision,
    placed: { order, version: event.aggregateVersion },
  });
  if (decision.approved && !recorded.applied && !recorded.wasPaid) await gateway.void(decision.authorizationId);
  return { approved: decision.approved, applied: recorded.applied };
}

async function refundOrder(gateway: PaymentGateway, event: Extract<DomainEvent, { type: 'OrderCancelled' }>) {
  const { order, refundedCents, authorizationId } = event.payload;
  if (!refundedCents) return { refundedCents: 0 };
  if (!authorizationId) throw new UnrecoverableError(`order ${order.orderId} has no authorization to refund against`);
  const refund = await gateway.refund({
    authorizationId,
    orderId: order.orderId,
    tenantId: event.tenantId,
    amountCents: refundedCents,
    currency: order.currency,
    idempotencyKey: event.id,
  });
  return { refundId: refund.refundId, refundedCents: refund.amountCents };
}

async function authorize(
  gateway: PaymentGateway,
  event: Extract<DomainEvent, { type: 'OrderPlaced' }>,
  job: Job,
): Promise<PaymentDecision> {
  const { order } = event.payload;
  const attempt = job.attemptsMade + 1;
  try {
    return await gateway.authorize({
      orderId: order.orderId,
      tenantId: event.tenantId,
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
