import type { OrderStatus } from '../../events/index.js';
import type { Timestamp } from '../../platform/clock.js';

export interface CustomerSummaryDto {
  customerId: string;
  ordersCount: number;
  countByStatus: CountByStatus;
  /** Paid totals minus refunds, in minor units, per currency. */
  lifetimeValue: Record<string, number>;
  lastOrder: { id: string; placedAt: Timestamp } | null;
}

// Spelled out rather than `Record<OrderStatus, number>`: the OpenAPI document lists a Record's keys
// in the order TypeScript happened to create the literal types, which moves with unrelated code,
// and the published contract must not.
/** The customer's orders in each status, 0 when none. */
export interface CountByStatus {
  placed: number;
  paid: number;
  shipped: number;
  payment_failed: number;
  expired: number;
  cancelled: number;
}

// Fails to compile when OrderStatus gains or loses a status that CountByStatus does not follow.
const coversEveryStatus: [keyof CountByStatus] extends [OrderStatus]
  ? [OrderStatus] extends [keyof CountByStatus]
    ? true
    : never
  : never = true;
void coversEveryStatus;
