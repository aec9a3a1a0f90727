/**
 * The port to a payment provider: authorize when an order is placed, void an authorization the
 * service will not use, refund a paid order that is cancelled. Every call is idempotent, so a job
 * that retries or is redelivered never charges, voids or refunds twice. The adapter is chosen in
 * src/composition-root.ts (PAYMENT_GATEWAY); tests pass their own through `Overrides`.
 */
export interface PaymentGateway {
  /** Idempotent per order: asking again for the same order returns the same authorization. */
  authorize(request: AuthorizationRequest): Promise<PaymentDecision>;
  /** Releases an authorization the service will not capture (the order expired or was cancelled first). */
  void(authorizationId: string): Promise<void>;
  /** Returns money for a paid order. Idempotent per `idempotencyKey`: a repeat returns the first refund. */
  refund(request: RefundRequest): Promise<Refund>;
}

export interface AuthorizationRequest {
  orderId: string;
  tenantId: string;
  amountCents: number;
  currency: string;
  attempt: number;
}

export type PaymentDecision = { approved: true; authorizationId: string } | { approved: false; reason: string };

export interface RefundRequest {
  authorizationId: string;
  orderId: string;
  tenantId: string;
  amountCents: number;
  currency: string;
  /** The same key on a retry or a redelivery: the provider refunds once. */
  idempotencyKey: string;
}

export interface Refund {
  refundId: string;
  amountCents: number;
}

/** The provider could not answer (timeout, 5xx): worth retrying. A decline is an answer, not this. */
export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
}
