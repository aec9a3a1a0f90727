import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  GatewayUnavailableError,
  type AuthorizationRequest,
  type PaymentDecision,
  type PaymentGateway,
} from './payment-gateway.js';

export interface FakeGatewaySettings {
  latencyMs: number;
  declineAboveCents: number;
  /** 0..1: share of attempts that fail transiently, chosen deterministically per order and attempt. */
  failureRate: number;
}

/**
 * A deterministic stand-in for a payment provider (PAYMENT_* settings): fixed latency, declines
 * above an amount, and transient failures for a reproducible share of attempts.
 */
export class FakePaymentGateway implements PaymentGateway {
  readonly voided: string[] = [];

  constructor(private readonly settings: FakeGatewaySettings) {}

  async authorize(request: AuthorizationRequest): Promise<PaymentDecision> {
    await delay(this.settings.latencyMs);
    if (unitInterval(`${request.orderId}/${request.attempt}`) < this.settings.failureRate) {
      throw new GatewayUnavailableError(`gateway unavailable (attempt ${request.attempt})`);
    }
    if (request.amountCents > this.settings.declineAboveCents) {
      return { approved: false, reason: `amount ${request.amountCents} ${request.currency} is above the limit` };
    }
    return { approved: true, authorizationId: `auth_${digest(request.orderId).slice(0, 24)}` };
  }

  async void(authorizationId: string): Promise<void> {
    this.voided.push(authorizationId);
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** A stable pseudo-random number in [0, 1) for `key`. */
function unitInterval(key: string): number {
  return parseInt(digest(key).slice(0, 12), 16) / 2 ** 48;
}
