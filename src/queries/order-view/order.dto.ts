import type { OrderStatus } from '../../events/index.js';
import type { Timestamp } from '../../platform/clock.js';

export interface OrderLineDto {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

export interface StatusChangeDto {
  status: OrderStatus;
  at: Timestamp;
  reason?: string;
}

export interface OrderDto {
  id: string;
  status: OrderStatus;
  customer: { id: string; name: string; email: string };
  lines: OrderLineDto[];
  totalCents: number;
  currency: string;
  placedAt: Timestamp;
  updatedAt: Timestamp;
  statusHistory: StatusChangeDto[];
  /** Staff and admin only: always present for them (null when empty), never for customers. */
  internalNote?: string | null;
  /** Staff and admin only. */
  riskScore?: number | null;
}

export interface OrderListDto {
  items: OrderDto[];
  nextCursor: string | null;
}
