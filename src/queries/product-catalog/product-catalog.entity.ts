import { defineEntity, p } from '@mikro-orm/core';

/** The catalogue as every member of the tenant reads it. */
export const ProductCatalogViewSchema = defineEntity({
  name: 'ProductCatalogView',
  tableName: 'product_catalog',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.text(),
    sku: p.text(),
    name: p.text(),
    priceCents: p.integer(),
    currency: p.text(),
    active: p.boolean(),
    version: p.integer(),
    updatedAt: p.datetime(),
  },
});
export class ProductCatalogView extends ProductCatalogViewSchema.class {}
ProductCatalogViewSchema.setClass(ProductCatalogView);
