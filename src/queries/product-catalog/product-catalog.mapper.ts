import type { ProductCatalogView } from './product-catalog.entity.js';
import type { ProductDto } from './product.dto.js';

export function toProductDto(row: ProductCatalogView): ProductDto {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    priceCents: row.priceCents,
    currency: row.currency,
    active: row.active,
    updatedAt: row.updatedAt.toISOString(),
  };
}
