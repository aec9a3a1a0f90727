import { customerSummaryProjection } from './customer-summary/customer-summary.projection.js';
import { dailySalesProjection } from './daily-sales/daily-sales.projection.js';
import { orderViewProjection } from './order-view/order-view.projection.js';
import type { ProductCatalogCache } from './product-catalog/product-catalog.cache.js';
import { productCatalogProjection } from './product-catalog/product-catalog.projection.js';
import type { Projection } from './shared/projection.js';

/** Every read model's projection. The projections worker applies each event to those that follow it. */
export function createProjections(catalogCache: ProductCatalogCache) {
  return {
    orderView: orderViewProjection,
    customerSummary: customerSummaryProjection,
    dailySales: dailySalesProjection,
    productCatalog: productCatalogProjection(catalogCache),
  } satisfies Record<string, Projection>;
}

export type Projections = ReturnType<typeof createProjections>;
