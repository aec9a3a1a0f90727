import { defineEntity, p } from '@mikro-orm/core';
import type {
  NewEvent,
  OrderEventPayloads,
  OrderEventType,
  OrderLineSnapshot,
  OrderSnapshot,
  OrderStatus,
  StatusChange,
} from '../../events/index.js';
import { SCHEMA_VERSIONS } from '../../events/upcasting.js';
import type { Product } from '../products/product.entity.js';
import type { Customer } from '../customers/customer.entity.js';
import {
  InvalidOrderTransitionError,
  MixedCurrenciesError,
  OrderTooLargeError,
  ProductUnavailableError,
} from './order.errors.js';

/**
 * Money limits, in minor units: what one line (unit price x quantity) and one order may total.
 * An order beyond them is refused (422); the columns that hold totals are bigint, wide enough
 * for the largest order these allow (docs/security.md#money-limits).
 */
export const MAX_LINE_TOTAL_CENTS = 1_000_000_000;
export const MAX_ORDER_TOTAL_CENTS = 10_000_000_000;

export const OrderSchema = defineEntity({
  name: 'Order',
  tableName: 'orders',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.text(),
    customerId: p.text(),
    lines: p.json<OrderLineSnapshot[]>(),
    totalCents: p.bigint('number'),
    currency: p.text(),
    status: p.text().$type<OrderStatus>(),
    statusHistory: p.json<StatusChange[]>(),
    internalNote: p.text().nullable(),
    riskScore: p.integer().nullable(),
    /** The payment provider's authorization, kept so a cancelled paid order can be refunded. */
    authorizationId: p.text().nullable(),
    version: p.integer(),
    placedAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export interface RequestedLine {
  productId: string;
  quantity: number;
}

/** What an order captures of its customer when placed. */
export type CustomerProfile = Pick<Customer, 'tenantId' | 'id' | 'name' | 'email' | 'version'>;

/** What an order captures of a product when placed. */
export type CatalogueEntry = Pick<Product, 'id' | 'name' | 'priceCents' | 'currency' | 'active'>;

type OrderEventOf<K extends OrderEventType> = NewEvent<K, OrderEventPayloads[K]>;

/** The order aggregate: its rules are these methods, each returning the event it causes. */
export class Order extends OrderSchema.class {
  static place(input: {
    id: string;
    customer: CustomerProfile;
    requested: RequestedLine[];
    catalogue: Map<string, CatalogueEntry>;
    now: Date;
  }): { order: Order; event: OrderEventOf<'OrderPlaced'> } {
    const lines = priceLines(mergeDuplicates(input.requested), input.catalogue);
    const currencies = [...new Set(lines.map((line) => line.currency))];
    if (currencies.length > 1) throw new MixedCurrenciesError(currencies);

    const order = new Order();
    Object.assign(order, {
      id: input.id,
      tenantId: input.customer.tenantId,
      customerId: input.customer.id,
      lines: lines.map(({ currency: _currency, ...line }) => line),
      totalCents: totalWithinLimits(lines),
      currency: currencies[0],
      status: 'placed',
      statusHistory: [{ status: 'placed', at: input.now.toISOString() }],
      internalNote: null,
      riskScore: null,
      authorizationId: null,
      version: 1,
      placedAt: input.now,
      updatedAt: input.now,
    });
    const customer = { name: input.customer.name, email: input.customer.email, version: input.customer.version };
    return { order, event: order.event('OrderPlaced', { order: order.snapshot(), customer }) };
  }

  /**
   * The order exactly as its OrderPlaced event left it (the event's snapshot is the whole row at
   * `version`; nothing has authorized it yet): a decision on it is written only while the row is
   * still at that version (CommandRunner.runAtVersion).
   */
  static asPlaced(tenantId: string, placed: OrderSnapshot, version: number): Order {
    const order = new Order();
    Object.assign(order, {
      id: placed.orderId,
      tenantId,
      customerId: placed.customerId,
      lines: placed.lines,
      totalCents: placed.totalCents,
      currency: placed.currency,
      status: placed.status,
      statusHistory: placed.statusHistory,
      internalNote: placed.internalNote,
      riskScore: placed.riskScore,
      authorizationId: null,
      version,
      placedAt: new Date(placed.placedAt),
      updatedAt: new Date(placed.updatedAt),
    });
    return order;
  }

  pay(authorizationId: string, now: Date): OrderEventOf<'OrderPaid'> {
    this.moveTo('paid', 'paid', ['placed'], now);
    this.authorizationId = authorizationId;
    return this.event('OrderPaid', { order: this.snapshot(), authorizationId });
  }

  failPayment(reason: string, now: Date): OrderEventOf<'OrderPaymentFailed'> {
    this.moveTo('payment_failed', 'marked payment failed', ['placed'], now, reason);
    return this.event('OrderPaymentFailed', { order: this.snapshot(), reason });
  }

  expire(now: Date): OrderEventOf<'OrderExpired'> {
    this.moveTo('expired', 'expired', ['placed'], now);
    return this.event('OrderExpired', { order: this.snapshot() });
  }

  /** A paid order is refunded in full when cancelled. */
  cancel(now: Date, reason?: string): OrderEventOf<'OrderCancelled'> {
    const refundedCents = this.status === 'paid' ? this.totalCents : 0;
    this.moveTo('cancelled', 'cancelled', ['placed', 'paid'], now, reason);
    const authorizationId = refundedCents ? (this.authorizationId ?? null) : null;
    return this.event('OrderCancelled', { order: this.snapshot(), refundedCents, authorizationId });
  }

  ship(now: Date): OrderEventOf<'OrderShipped'> {
    this.moveTo('shipped', 'shipped', ['paid'], now);
    return this.event('OrderShipped', { order: this.snapshot() });
  }

  get isAwaitingPayment(): boolean {
    return this.status === 'placed';
  }

  get hasBeenPaid(): boolean {
    return this.statusHistory.some((change) => change.status === 'paid');
  }

  snapshot(): OrderSnapshot {
    return {
      orderId: this.id,
      customerId: this.customerId,
      lines: this.lines,
      totalCents: this.totalCents,
      currency: this.currency,
      status: this.status,
      statusHistory: this.statusHistory,
      internalNote: this.internalNote ?? null,
      riskScore: this.riskScore ?? null,
      placedAt: this.placedAt.toISOString(),
      updatedAt: this.updatedAt.toISOString(),
    };
  }

  private moveTo(next: OrderStatus, verb: string, allowedFrom: OrderStatus[], now: Date, reason?: string): void {
    if (!allowedFrom.includes(this.status)) throw new InvalidOrderTransitionError(this.id, this.status, verb);
    this.status = next;
    this.statusHistory = [...this.statusHistory, { status: next, at: now.toISOString(), ...(reason ? { reason } : {}) }];
    this.updatedAt = now;
    this.version += 1;
  }

  private event<K extends OrderEventType>(type: K, payload: OrderEventPayloads[K]): OrderEventOf<K> {
    return {
      type,
      schemaVersion: SCHEMA_VERSIONS[type],
      aggregateType: 'Order',
      aggregateId: this.id,
      aggregateVersion: this.version,
      payload,
    };
  }
}
OrderSchema.setClass(Order);

function mergeDuplicates(requested: RequestedLine[]): RequestedLine[] {
  const quantities = new Map<string, number>();
  for (const line of requested) quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity);
  return [...quantities].map(([productId, quantity]) => ({ productId, quantity }));
}

function totalWithinLimits(lines: { productId: string; unitPriceCents: number; quantity: number }[]): number {
  let total = 0;
  for (const line of lines) {
    const lineTotal = line.unitPriceCents * line.quantity;
    if (lineTotal > MAX_LINE_TOTAL_CENTS) throw new OrderTooLargeError('line', lineTotal, MAX_LINE_TOTAL_CENTS, line.productId);
    total += lineTotal;
  }
  if (total > MAX_ORDER_TOTAL_CENTS) throw new OrderTooLargeError('order', total, MAX_ORDER_TOTAL_CENTS);
  return total;
}

/** Prices are captured from the catalogue at placement; later price changes never touch the order. */
function priceLines(requested: RequestedLine[], catalogue: Map<string, CatalogueEntry>) {
  const unavailable = requested.filter((line) => !catalogue.get(line.productId)?.active).map((line) => line.productId);
  if (unavailable.length) throw new ProductUnavailableError(unavailable);
  return requested.map((line) => {
    const product = catalogue.get(line.productId)!;
    return {
      productId: product.id,
      name: product.name,
      quantity: line.quantity,
      unitPriceCents: product.priceCents,
      currency: product.currency,
    };
  });
}
