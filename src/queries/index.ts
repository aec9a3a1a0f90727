import type { Orm } from '../platform/db/orm.js';
import type { Logger } from '../platform/logger.js';
import type { Observer } from '../platform/observe.js';
import { GetCommandStatusQuery } from './command-status/get-command-status.query.js';
import { GetCustomerSummaryQuery } from './customer-summary/get-customer-summary.query.js';
import { GetDailySalesQuery } from './daily-sales/get-daily-sales.query.js';
import { GetOrderQuery } from './order-view/get-order.query.js';
import { ListOrdersQuery } from './order-view/list-orders.query.js';
import { ORDER_VIEW_CHANNEL, OrderViewCache, orderViewChangePayload } from './order-view/order-view.cache.js';
import { GetProductQuery } from './product-catalog/get-product.query.js';
import { ListProductsQuery } from './product-catalog/list-products.query.js';
import { ProductCatalogCache } from './product-catalog/product-catalog.cache.js';
import { createProjections, readModelEntities, type Projections } from './read-models.js';
import type { Projection } from './shared/projection.js';
import { ProjectionRebuilds } from './shared/projection-rebuilds.js';
import { Projector } from './shared/projector.js';
import { Reader } from './shared/read-context.js';
import { GetWebhookQuery } from './webhooks/get-webhook.query.js';
import { ListWebhooksQuery } from './webhooks/list-webhooks.query.js';
import { WebhookListingSchema } from './webhooks/webhook-listing.entity.js';
import type { RedisClient } from '../platform/redis.js';
import type { Notifier } from '../platform/db/notifier.js';

/**
 * The read side's entities, registered with MikroORM by the composition root: every read model's
 * (src/queries/read-models.ts), and the webhook listing, a view over a write-side table.
 */
export const queryEntities = [...readModelEntities, WebhookListingSchema];

/** Every use case that reads: the table of contents of the read side. */
export interface Queries {
  getOrder: GetOrderQuery;
  listOrders: ListOrdersQuery;
  getProduct: GetProductQuery;
  listProducts: ListProductsQuery;
  getCustomerSummary: GetCustomerSummaryQuery;
  getDailySales: GetDailySalesQuery;
  getWebhook: GetWebhookQuery;
  listWebhooks: ListWebhooksQuery;
  getCommandStatus: GetCommandStatusQuery;
}

export interface ReadSide {
  queries: Queries;
  projections: Projections;
  projector: Projector;
  rebuilds: ProjectionRebuilds;
  /** Single order reads kept in this process; listens on its own session once reads start. */
  orderCache: OrderViewCache;
}

export function createReadSide(
  orm: Orm,
  redis: RedisClient,
  observer: Observer,
  logger: Logger,
  /** NOTIFY after commit: how the order_view projection announces its changes to the order caches. */
  notifier: Notifier,
  settings: {
    consistencyWaitMs: number;
    /** Prefix of the read side's Redis keys: catalogue pages, rebuild locks and progress. */
    redisPrefix: string;
    /** The order cache's LISTEN session goes to the primary: NOTIFY does not reach replicas. */
    orderCache: { databaseUrl: string; size: number; ttlMs: number; pageBytes?: number };
  },
): ReadSide {
  const reader = new Reader(orm, settings.consistencyWaitMs);
  const catalogCache = new ProductCatalogCache(redis, settings.redisPrefix);
  const projections = createProjections({
    catalogCache,
    announceOrderView: (change) => notifier.notify(ORDER_VIEW_CHANNEL, orderViewChangePayload(change)),
  });
  const all: Projection[] = Object.values(projections);
  const projector = new Projector(orm, all, (error) =>
    logger.warn('a projection batch deadlocked; it runs again', { error: error.message }),
  );
  const orderCache = new OrderViewCache(settings.orderCache, logger);
  return {
    projections,
    orderCache,
    projector,
    rebuilds: new ProjectionRebuilds(orm, projector, all, redis, logger, { prefix: settings.redisPrefix }),
    // Every query is observed here, once: queries never time or log themselves.
    queries: observer.wrapAll('query', {
      getOrder: new GetOrderQuery(reader, orderCache),
      listOrders: new ListOrdersQuery(reader, orderCache),
      getProduct: new GetProductQuery(reader, projections.productCatalog),
      listProducts: new ListProductsQuery(reader, catalogCache, projections.productCatalog),
      getCustomerSummary: new GetCustomerSummaryQuery(reader, projections.customerSummary),
      getDailySales: new GetDailySalesQuery(reader, projections.dailySales),
      getWebhook: new GetWebhookQuery(reader),
      listWebhooks: new ListWebhooksQuery(reader),
      getCommandStatus: new GetCommandStatusQuery(reader, all),
    }),
  };
}
