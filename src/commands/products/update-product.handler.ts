import type { EntityManager } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
import { NotFoundError } from '../../platform/errors.js';
import { authorize } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { Product, type ProductChanges } from './product.entity.js';

export interface UpdateProduct extends ProductChanges {
  productId: string;
}

/** An admin renames, reprices, or (de)activates a product. Placed orders keep their captured prices. */
export class UpdateProductHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, { productId, ...changes }: UpdateProduct, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      'UpdateProduct',
      principal,
      async ({ em, ability, now, record }) => {
        const product = await productForUpdate(em, principal.tenantId, productId);
        authorize(ability, 'update', 'Product', product);
        record(product.update(changes, now));
        return { aggregateType: 'Product', aggregateId: product.id };
      },
      options,
    );
  }
}

async function productForUpdate(em: EntityManager, tenantId: string, productId: string): Promise<Product> {
  const product = await em.findOne(Product, { id: productId, tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!product) throw new NotFoundError('Product', productId);
  return product;
}
