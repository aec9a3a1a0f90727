import type { EventEnvelope } from './envelope.js';

export type OrderStatus = 'placed' | 'paid' | 'shipped' | 'payment_failed' | 'expired' | 'cancelled';

export interface OrderLineSnapshot {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

export interface StatusChange {
  status: OrderStatus;
  at: string;
  reason?: string;
}

/**
 * Every order event carries the order's state after the change (event-carried state transfer),
 * so a projection can upsert by version whatever order the events arrive in.
 */
export interface OrderSnapshot {
  orderId: string;
  customerId: string;
  lines: OrderLineSnapshot[];
  totalCents: number;
  currency: string;
  status: OrderStatus;
  statusHistory: StatusChange[];
  internalNote: string | null;
  riskScore: number | null;
  placedAt: string;
  updatedAt: string;
}

export interface OrderPlacedPayload {
  order: OrderSnapshot;
  /** The customer's profile as the write side knew it at placement. */
  customer: { name: string; email: string; version: number };
}
export interface OrderPaidPayload {
  order: OrderSnapshot;
  authorizationId: string;
}
export interface OrderPaymentFailedPayload {
  order: OrderSnapshot;
  reason: string;
}
export interface OrderExpiredPayload {
  order: OrderSnapshot;
}
export interface OrderCancelledPayload {
  order: OrderSnapshot;
  /** The paid amount returned to the customer, 0 when nothing was paid. */
  refundedCents: number;
  /** What the payments process refunds against; null when nothing was paid (absent in older events). */
  authorizationId?: string | null;
}
export interface OrderShippedPayload {
  order: OrderSnapshot;
}

export interface OrderEventPayloads {
  OrderPlaced: OrderPlacedPayload;
  OrderPaid: OrderPaidPayload;
  OrderPaymentFailed: OrderPaymentFailedPayload;
  OrderExpired: OrderExpiredPayload;
  OrderCancelled: OrderCancelledPayload;
  OrderShipped: OrderShippedPayload;
}

export type OrderEventType = keyof OrderEventPayloads;
export type OrderEvent = { [K in OrderEventType]: EventEnvelope<K, OrderEventPayloads[K]> }[OrderEventType];
export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'OrderPlaced',
  'OrderPaid',
  'OrderPaymentFailed',
  'OrderExpired',
  'OrderCancelled',
  'OrderShipped',
];
