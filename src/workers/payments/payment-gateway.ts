/** The port to a payment provider. The default adapter is FakePaymentGateway; tests may swap in their own. */
export interface PaymentGateway {
  /** Idempotent per order: asking again for the same order returns the same authorization. */
  authorize(request: AuthorizationRequest): Promise<PaymentDecision>;
  /** Releases an authorization the service will not capture (the order expired or was cancelled first). */
  void(authorizationId: string): Promise<void>;
}

export interface AuthorizationRequest {
  orderId: string;
  tenantId: string;
  amountCents: number;
  currency: string;
  attempt: number;
}

export type PaymentDecision = { approved: true; authorizationId: string } | { approved: false; reason: string };

/** The provider could not answer (timeout, 5xx): worth retrying. A decline is an answer, not this. */
export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
}
