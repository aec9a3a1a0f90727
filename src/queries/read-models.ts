import type { EntitySchema } from '@mikro-orm/core';
import type { SubjectType } from '../policies/abilities.js';
import { customerSummaryProjection } from './customer-summary/customer-summary.projection.js';
import { dailySalesProjection } from './daily-sales/daily-sales.projection.js';
import { OrderViewSchema } from './order-view/order-view.entity.js';
import type { OrderViewChange } from './order-view/order-view.cache.js';
import { createOrderViewProjection } from './order-view/order-view.projection.js';
import type { ProductCatalogCache } from './product-catalog/product-catalog.cache.js';
import { ProductCatalogViewSchema } from './product-catalog/product-catalog.entity.js';
import { productCatalogProjection } from './product-catalog/product-catalog.projection.js';
import type { Projection } from './shared/projection.js';

/** Adapters a projection may be built with (the read side owns them). */
export interface ReadModelAdapters {
  catalogCache: ProductCatalogCache;
  /** Tells the order caches of a committed order_view change (without it, order_view's trigger does). */
  announceOrderView?: (change: OrderViewChange) => void;
}

/** One read model, declared once. */
export interface ReadModel {
  /** What its queries authorize (`src/policies/abilities.ts`): a subject no rule grants fails `test/unit/read-models.test.ts`. */
  subject: SubjectType;
  /** Entities its queries read through; registered with MikroORM. */
  entities: readonly EntitySchema[];
  /** Its projection: the consumer name (inbox, rebuilds, metrics), the events it follows, the tables it owns, `apply`. */
  projection: (adapters: ReadModelAdapters) => Projection;
}

/**
 * Every read model. Everything else derives from this table: the projections worker applies each
 * event to the projections that follow it, command status waits for them, rebuilds
 * (`/v1/admin/projections/{name}/rebuild`, `npm run ops -- rebuild`) offer them, the composition
 * root registers their entities, and the rebuild test compares every table they own. A table a
 * migration creates that no read model owns fails `test/integration/read-models.test.ts`.
 */
export const READ_MODELS = {
  orderView: {
    subject: 'Order',
    entities: [OrderViewSchema],
    projection: ({ announceOrderView }) => createOrderViewProjection(announceOrderView),
  },
  customerSummary: { subject: 'CustomerSummary', entities: [], projection: () => customerSummaryProjection },
  dailySales: { subject: 'Report', entities: [], projection: () => dailySalesProjection },
  productCatalog: {
    subject: 'Product',
    entities: [ProductCatalogViewSchema],
    projection: ({ catalogCache }) => productCatalogProjection(catalogCache),
  },
} satisfies Record<string, ReadModel>;

export type ReadModelName = keyof typeof READ_MODELS;
export type Projections = Record<ReadModelName, Projection>;

export function createProjections(adapters: ReadModelAdapters): Projections {
  const entries = Object.entries(READ_MODELS) as [ReadModelName, ReadModel][];
  return Object.fromEntries(entries.map(([name, model]) => [name, model.projection(adapters)])) as Projections;
}

/** The entities of every read model, for MikroORM. */
export const readModelEntities: EntitySchema[] = Object.values(READ_MODELS).flatMap((model) => [...model.entities]);
