import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  GatewayUnavailableError,
  type AuthorizationRequest,
  type PaymentDecision,
  type PaymentGateway,
  type Refund,
  type RefundRequest,
} from './payment-gateway.js';

export interface FakeGatewaySettings {
  latencyMs: number;
  declineAboveCents: number;
  /** 0..1: share of attempts that fail transiently, chosen deterministically per order and attempt. */
  failureRate: number;
  /** How many voids and refunds it remembers (oldest forgotten first); it never grows past this. */
  memory?: number;
}

/**
 * A deterministic stand-in for a payment provider (PAYMENT_* settings): fixed latency, declines
 * above an amount, and transient failures for a reproducible share of attempts. It remembers
 * recent voids and refunds (bounded) so repeats are answered like a real provider would.
 */
export class FakePaymentGateway implements PaymentGateway {
  private readonly voids: BoundedMap<string, true>;
  private readonly refunds: BoundedMap<string, Refund>;
  /** Refunds actually made (a repeat of an idempotency key is not one). */
  refundsIssued = 0;

  constructor(private readonly settings: FakeGatewaySettings) {
    this.voids = new BoundedMap(settings.memory ?? 10_000);
    this.refunds = new BoundedMap(settings.memory ?? 10_000);
  }

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
    this.voids.set(authorizationId, true);
  }

  async refund(request: RefundRequest): Promise<Refund> {
    await delay(this.settings.latencyMs);
    const earlier = this.refunds.get(request.idempotencyKey);
    if (earlier) return earlier;
    const refund = { refundId: `re_${digest(request.idempotencyKey).slice(0, 24)}`, amountCents: request.amountCents };
    this.refunds.set(request.idempotencyKey, refund);
    this.refundsIssued += 1;
    return refund;
  }

  wasVoided(authorizationId: string): boolean {
    return this.voids.has(authorizationId);
  }

  refundFor(idempotencyKey: string): Refund | undefined {
    return this.refunds.get(idempotencyKey);
  }

  /** Entries remembered now (voids + refunds): bounded by `memory` each. */
  get remembered(): number {
    return this.voids.size + this.refunds.size;
  }
}

/** A Map that forgets its oldest entry once it holds `capacity` (insertion order). */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** A stable pseudo-random number in [0, 1) for `key`. */
function unitInterval(key: string): number {
  return parseInt(digest(key).slice(0, 12), 16) / 2 ** 48;
}
