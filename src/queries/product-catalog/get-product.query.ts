import { NotFoundError } from '../../platform/errors.js';
import { accessFilter } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import type { Projection } from '../shared/projection.js';
import type { ReadOptions, Reader } from '../shared/read-context.js';
import { ProductCatalogView } from './product-catalog.entity.js';
import { toProductDto } from './product-catalog.mapper.js';
import type { ProductDto } from './product.dto.js';

/**
 * One product of the catalogue, if the caller may see it (the same abilities as the list: active
 * products for every member of the tenant, inactive ones for admins); otherwise "not found".
 */
export class GetProductQuery {
  constructor(
    private readonly reader: Reader,
    private readonly projection: Projection,
  ) {}

  async handle(
    principal: Principal,
    productId: string,
    options?: ReadOptions,
  ): Promise<{ product: ProductDto; freshness: Freshness | null }> {
    const { em, ability, freshness } = await this.reader.open(principal, this.projection, options);
    const visible = accessFilter<ProductCatalogView>(ability, 'read', 'Product');
    const row = visible && (await em.findOne(ProductCatalogView, { $and: [visible, { id: productId }] }));
    if (!row) throw new NotFoundError('Product', productId);
    return { product: toProductDto(row), freshness };
  }
}
