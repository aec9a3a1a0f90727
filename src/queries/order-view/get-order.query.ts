import { NotFoundError } from '../../platform/errors.js';
import { abilityFor, type AppAbility } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import { accessSql, type ReadOptions, type Reader } from '../shared/read-context.js';
import type { OrderDto } from './order.dto.js';
import type { OrderViewCache } from './order-view.cache.js';
import { ORDER_VIEW_SELECT, orderSubject, orderViewColumn, toOrderDto, type OrderViewRow } from './order-view.mapper.js';
import { orderViewProjection } from './order-view.projection.js';

export interface OrderResult {
  order: OrderDto;
  freshness: Freshness | null;
}

/**
 * One order, if the caller may see it; otherwise "not found", whether or not it exists. From the
 * order cache when it holds the row (the caller's ability checked on the row), else one plain SQL
 * statement with the ability in its WHERE clause: a read model needs no unit of work. A read
 * consistent with a command always asks PostgreSQL (after the wait) and refreshes the cache.
 */
export class GetOrderQuery {
  constructor(
    private readonly reader: Reader,
    private readonly cache: OrderViewCache,
  ) {}

  async handle(principal: Principal, orderId: string, options?: ReadOptions): Promise<OrderResult> {
    const cached = options?.consistentWith ? undefined : this.cache.get(principal.tenantId, orderId);
    if (cached) return { order: visibleOrder(cached, abilityFor(principal), orderId), freshness: null };

    const ticket = this.cache.ticket();
    const { ability, freshness, sql } = await this.reader.open(principal, orderViewProjection, options);
    const visible = accessSql(ability, 'read', 'Order', orderViewColumn);
    const [row] = visible
      ? await sql<OrderViewRow>(`${ORDER_VIEW_SELECT} where ${visible.sql} and id = ? limit 1`, [...visible.params, orderId])
      : [];
    if (!row) throw new NotFoundError('Order', orderId);
    this.cache.fill(ticket, row);
    return { order: toOrderDto(row, ability), freshness };
  }
}

/** A cached row answers only a caller whose ability may read it, shaped by that caller's field rules. */
function visibleOrder(row: OrderViewRow, ability: AppAbility, orderId: string): OrderDto {
  const order = orderSubject(row);
  if (!ability.can('read', order)) throw new NotFoundError('Order', orderId);
  return toOrderDto(row, ability, order);
}
