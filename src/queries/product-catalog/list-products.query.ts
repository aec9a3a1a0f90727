import { createHash } from 'node:crypto';
import { accessFilter } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import { decodeCursor, encodeCursor, notOurCursor } from '../shared/keyset.js';
import type { Projection } from '../shared/projection.js';
import type { ReadOptions, Reader } from '../shared/read-context.js';
import type { ProductCatalogCache } from './product-catalog.cache.js';
import { ProductCatalogView } from './product-catalog.entity.js';
import { toProductDto } from './product-catalog.mapper.js';
import type { ProductListDto } from './product.dto.js';

export interface ListProducts extends ReadOptions {
  limit: number;
  cursor?: string | undefined;
}

/**
 * The tenant's catalogue by SKU, a keyset page at a time: active products for every member of
 * the tenant, inactive ones too for admins (the abilities decide, as a WHERE clause). Pages are
 * cached in Redis per tenant and per visibility; the projection invalidates them.
 */
export class ListProductsQuery {
  constructor(
    private readonly reader: Reader,
    private readonly cache: ProductCatalogCache,
    private readonly projection: Projection,
  ) {}

  async handle(principal: Principal, query: ListProducts): Promise<ProductListDto & { freshness: Freshness | null }> {
    const { em, ability, freshness } = await this.reader.open(principal, this.projection, query);
    const visible = accessFilter<ProductCatalogView>(ability, 'read', 'Product');
    if (!visible) return { items: [], nextCursor: null, freshness };

    // Validated before it can reach a cache key; the key is a digest of validated input only.
    const after = query.cursor ? { sku: { $gt: skuAfter(query.cursor) } } : {};
    const page = digest({ visible, after, limit: query.limit });
    // A read-your-writes caller skips the cache: invalidation lands just after the projection commits.
    const cached = query.consistentWith ? null : await this.cache.get(principal.tenantId, page);
    if (cached?.hit) return { ...(cached.hit as ProductListDto), freshness };

    const rows = await em.find(
      ProductCatalogView,
      { $and: [visible, after] },
      { orderBy: { sku: 'asc' }, limit: query.limit + 1 },
    );
    const items = rows.slice(0, query.limit).map(toProductDto);
    const result = { items, nextCursor: rows.length > query.limit ? encodeCursor([items.at(-1)!.sku]) : null };
    if (cached) await this.cache.set(principal, cached.generation, page, result);
    return { ...result, freshness };
  }
}

const digest = (input: unknown) => createHash('sha256').update(JSON.stringify(input)).digest('base64url').slice(0, 22);

function skuAfter(cursor: string): string {
  const [sku] = decodeCursor(cursor, 1);
  if (typeof sku !== 'string') throw notOurCursor();
  return sku;
}
