import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { newId } from '../../platform/ids.js';
import { authorizeAttributes } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { Product } from './product.entity.js';
import { DuplicateSkuError } from './product.errors.js';

export interface CreateProduct {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
}

export class CreateProductHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: CreateProduct, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner
      .run(
        'CreateProduct',
        principal,
        async ({ em, ability, now, record }) => {
          authorizeAttributes(ability, 'create', 'Product', { tenantId: principal.tenantId });
          await assertSkuIsFree(em, principal.tenantId, command.sku);
          const { product, event } = Product.create({ id: newId(), tenantId: principal.tenantId, ...command, now });
          em.persist(product);
          record(event);
          return { aggregateType: 'Product', aggregateId: product.id };
        },
        options,
      )
      .catch(duplicateSkuAsConflict(command.sku));
  }
}

async function assertSkuIsFree(em: Parameters<Parameters<CommandRunner['run']>[2]>[0]['em'], tenantId: string, sku: string) {
  if (await em.count(Product, { tenantId, sku })) throw new DuplicateSkuError(sku);
}

/** Two concurrent creations with one SKU: the unique index decides, and the loser gets a 409. */
function duplicateSkuAsConflict(sku: string) {
  return (error: unknown): never => {
    if (error instanceof UniqueConstraintViolationException) throw new DuplicateSkuError(sku);
    throw error;
  };
}
