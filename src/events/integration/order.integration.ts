import { z } from 'zod';
import type { OrderSnapshot } from '../order.events.js';

/**
 * The public shape of an order in integration events (v1): what a tenant's systems may rely on.
 * Staff-only fields (`internalNote`, `riskScore`) and payment references stay inside.
 */
export const PublicOrderV1 = z
  .object({
    id: z.uuid().describe('The order id, as in `GET /v1/orders/{orderId}`.'),
    status: z.enum(['placed', 'paid', 'shipped', 'payment_failed', 'expired', 'cancelled']),
    customerId: z.string().describe("The customer's subject (`sub` of their token)."),
    lines: z.array(
      z.object({
        productId: z.uuid(),
        name: z.string().describe("The product's name when the order was placed."),
        quantity: z.int().min(1),
        unitPriceCents: z.int().min(0).describe('Price per unit captured at placement, in minor units.'),
      }),
    ),
    totalCents: z.int().min(0).describe('In minor units of `currency`.'),
    currency: z.string().length(3).describe('ISO 4217 code.'),
    placedAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ title: 'Order (v1)' });
export type PublicOrderV1 = z.infer<typeof PublicOrderV1>;

export const OrderPlacedV1 = z.object({
  order: PublicOrderV1,
  customer: z.object({ name: z.string(), email: z.string() }).describe("The customer's profile when the order was placed."),
});
export const OrderPaidV1 = z.object({ order: PublicOrderV1 });
export const OrderPaymentFailedV1 = z.object({
  order: PublicOrderV1,
  reason: z.string().describe('Why the payment was declined or could not be made.'),
});
export const OrderExpiredV1 = z.object({ order: PublicOrderV1 });
export const OrderCancelledV1 = z.object({
  order: PublicOrderV1,
  refundedCents: z.int().min(0).describe('The paid amount returned to the customer; 0 when nothing was paid.'),
});
export const OrderShippedV1 = z.object({ order: PublicOrderV1 });

export function publicOrderV1(order: OrderSnapshot): PublicOrderV1 {
  return {
    id: order.orderId,
    status: order.status,
    customerId: order.customerId,
    lines: order.lines.map(({ productId, name, quantity, unitPriceCents }) => ({ productId, name, quantity, unitPriceCents })),
    totalCents: order.totalCents,
    currency: order.currency,
    placedAt: order.placedAt,
    updatedAt: order.updatedAt,
  };
}
