import { defineEntity, p } from '@mikro-orm/core';
import type { NewEvent, ProductEventPayloads, ProductEventType, ProductSnapshot } from '../../events/index.js';
import { SCHEMA_VERSIONS } from '../../events/upcasting.js';

export const ProductSchema = defineEntity({
  name: 'Product',
  tableName: 'products',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.text(),
    sku: p.text(),
    name: p.text(),
    priceCents: p.integer(),
    currency: p.text(),
    active: p.boolean(),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export interface ProductChanges {
  name?: string | undefined;
  priceCents?: number | undefined;
  active?: boolean | undefined;
}

type ProductEventOf<K extends ProductEventType> = NewEvent<K, ProductEventPayloads[K]>;

export class Product extends ProductSchema.class {
  static create(input: {
    id: string;
    tenantId: string;
    sku: string;
    name: string;
    priceCents: number;
    currency: string;
    now: Date;
  }): { product: Product; event: ProductEventOf<'ProductCreated'> } {
    const product = new Product();
    Object.assign(product, {
      id: input.id,
      tenantId: input.tenantId,
      sku: input.sku,
      name: input.name,
      priceCents: input.priceCents,
      currency: input.currency.toUpperCase(),
      active: true,
      version: 1,
      createdAt: input.now,
      updatedAt: input.now,
    });
    return { product, event: product.event('ProductCreated') };
  }

  /** Orders already placed keep the price they captured; only new orders see a change. */
  update(changes: ProductChanges, now: Date): ProductEventOf<'ProductUpdated'> {
    if (changes.name !== undefined) this.name = changes.name;
    if (changes.priceCents !== undefined) this.priceCents = changes.priceCents;
    if (changes.active !== undefined) this.active = changes.active;
    this.updatedAt = now;
    this.version += 1;
    return this.event('ProductUpdated');
  }

  snapshot(): ProductSnapshot {
    return {
      productId: this.id,
      sku: this.sku,
      name: this.name,
      priceCents: this.priceCents,
      currency: this.currency,
      active: this.active,
      updatedAt: this.updatedAt.toISOString(),
    };
  }

  private event<K extends ProductEventType>(type: K): ProductEventOf<K> {
    return {
      type,
      schemaVersion: SCHEMA_VERSIONS[type],
      aggregateType: 'Product',
      aggregateId: this.id,
      aggregateVersion: this.version,
      payload: { product: this.snapshot() },
    };
  }
}
ProductSchema.setClass(Product);
