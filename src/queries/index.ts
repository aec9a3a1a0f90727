import type { Orm } from '../platform/db/orm.js';
import { GetCommandStatusQuery } from './command-status/get-command-status.query.js';
import { GetOrderQuery } from './order-view/get-order.query.js';
import { ListOrdersQuery } from './order-view/list-orders.query.js';
import { OrderViewSchema } from './order-view/order-view.entity.js';
import { projections } from './projections.js';
import { Projector } from './shared/projector.js';
import { Reader } from './shared/read-context.js';

export { projections };

/** The read side's entities, registered with MikroORM by the composition root. */
export const queryEntities = [OrderViewSchema];

/** Every use case that reads: the table of contents of the read side. */
export interface Queries {
  getOrder: GetOrderQuery;
  listOrders: ListOrdersQuery;
  getCommandStatus: GetCommandStatusQuery;
}

export function createQueries(orm: Orm, settings: { consistencyWaitMs: number }): Queries {
  const reader = new Reader(orm, settings.consistencyWaitMs);
  return {
    getOrder: new GetOrderQuery(reader),
    listOrders: new ListOrdersQuery(reader),
    getCommandStatus: new GetCommandStatusQuery(reader, projections),
  };
}

export function createProjector(orm: Orm): Projector {
  return new Projector(orm, projections);
}
