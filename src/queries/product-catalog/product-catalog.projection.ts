import type { DomainEvent, ProductEvent } from '../../events/index.js';
import { PRODUCT_EVENT_TYPES } from '../../events/index.js';
import { sqlProjection, type Projection } from '../shared/projection.js';
import type { ProductCatalogCache } from './product-catalog.cache.js';

/**
 * product_catalog copies state by version (order-tolerant); after each change the tenant's cached
 * pages are invalidated. If invalidation fails (Redis down) the job fails and is retried: the
 * inbox skips the already-applied change and the invalidation runs again.
 */
export function productCatalogProjection(cache: ProductCatalogCache): Projection {
  return sqlProjection({
    name: 'product_catalog',
    eventTypes: PRODUCT_EVENT_TYPES,
    tables: ['product_catalog'],

    lockKeys: (event) => [`product:${(event as ProductEvent).payload.product.productId}`],

    statements(event, when) {
      const { product } = (event as ProductEvent).payload;
      const sql = `insert into product_catalog (id, tenant_id, sku, name, price_cents, currency, active, version, updated_at)
         select ?, ?, ?, ?, ?, ?, ?, ?, ? where ${when}
         on conflict (id) do update set name = excluded.name, price_cents = excluded.price_cents,
           active = excluded.active, version = excluded.version, updated_at = excluded.updated_at
         where product_catalog.version < excluded.version`;
      const params = [
        product.productId,
        event.tenantId,
        product.sku,
        product.name,
        product.priceCents,
        product.currency,
        product.active,
        event.aggregateVersion,
        product.updatedAt,
      ];
      return [{ sql, params }];
    },

    async afterCommit(event: DomainEvent): Promise<void> {
      await cache.invalidate(event.tenantId);
    },
  });
}
