import { NotFoundError } from '../../platform/errors.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import { accessSql, type ReadOptions, type Reader } from '../shared/read-context.js';
import type { OrderDto } from './order.dto.js';
import { ORDER_VIEW_SELECT, orderViewColumn, toOrderDto, type OrderViewRow } from './order-view.mapper.js';
import { orderViewProjection } from './order-view.projection.js';

export interface OrderResult {
  order: OrderDto;
  freshness: Freshness | null;
}

/**
 * One order, if the caller may see it; otherwise "not found", whether or not it exists. One
 * plain SQL statement with the ability in its WHERE clause: a read model needs no unit of work.
 */
export class GetOrderQuery {
  constructor(private readonly reader: Reader) {}

  async handle(principal: Principal, orderId: string, options?: ReadOptions): Promise<OrderResult> {
    const { ability, freshness, sql } = await this.reader.open(principal, orderViewProjection, options);
    const visible = accessSql(ability, 'read', 'Order', orderViewColumn);
    const [row] = visible
      ? await sql<OrderViewRow>(`${ORDER_VIEW_SELECT} where ${visible.sql} and id = ? limit 1`, [...visible.params, orderId])
      : [];
    if (!row) throw new NotFoundError('Order', orderId);
    return { order: toOrderDto(row, ability), freshness };
  }
}
