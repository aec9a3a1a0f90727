import { z } from 'zod';
import type { ProductSnapshot } from '../product.events.js';

/** The public shape of a product in integration events (v1). */
export const PublicProductV1 = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    priceCents: z.int().min(0).describe('In minor units of `currency`.'),
    currency: z.string().length(3).describe('ISO 4217 code.'),
    active: z.boolean().describe('Inactive products cannot be ordered.'),
    updatedAt: z.iso.datetime(),
  })
  .meta({ title: 'Product (v1)' });
export type PublicProductV1 = z.infer<typeof PublicProductV1>;

export const ProductCreatedV1 = z.object({ product: PublicProductV1 });
export const ProductUpdatedV1 = z.object({ product: PublicProductV1 });

export function publicProductV1(product: ProductSnapshot): PublicProductV1 {
  const { productId, sku, name, priceCents, currency, active, updatedAt } = product;
  return { id: productId, sku, name, priceCents, currency, active, updatedAt };
}
