import type { OrderStatus } from '../../events/index.js';
import type { Timestamp } from '../../platform/clock.js';

export interface CustomerSummaryDto {
  customerId: string;
  ordersCount: number;
  /** Every status, 0 when none. */
  countByStatus: Record<OrderStatus, number>;
  /** Paid totals minus refunds, in minor units, per currency. */
  lifetimeValue: Record<string, number>;
  lastOrder: { id: string; placedAt: Timestamp } | null;
}
