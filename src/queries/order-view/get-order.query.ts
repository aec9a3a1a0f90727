import { NotFoundError } from '../../platform/errors.js';
import { accessFilter } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import type { ReadOptions, Reader } from '../shared/read-context.js';
import type { OrderDto } from './order.dto.js';
import { OrderView } from './order-view.entity.js';
import { toOrderDto } from './order-view.mapper.js';
import { orderViewProjection } from './order-view.projection.js';

export interface OrderResult {
  order: OrderDto;
  freshness: Freshness | null;
}

/** One order, if the caller may see it; otherwise "not found", whether or not it exists. */
export class GetOrderQuery {
  constructor(private readonly reader: Reader) {}

  async handle(principal: Principal, orderId: string, options?: ReadOptions): Promise<OrderResult> {
    const { em, ability, freshness } = await this.reader.open(principal, orderViewProjection, options);
    const visible = accessFilter<OrderView>(ability, 'read', 'Order');
    const view = visible && (await em.findOne(OrderView, { $and: [visible, { id: orderId }] }));
    if (!view) throw new NotFoundError('Order', orderId);
    return { order: toOrderDto(view, ability), freshness };
  }
}
