import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from '../../platform/ids.js';
import { authorizeAttributes } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { customerOnFirstSight } from '../customers/customer-registry.js';
import { Product } from '../products/product.entity.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { Order, type RequestedLine } from './order.entity.js';

export interface PlaceOrder {
  lines: RequestedLine[];
}

/** A customer places an order for themself, at the catalogue's current prices. */
export class PlaceOrderHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: PlaceOrder, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      'PlaceOrder',
      principal,
      async ({ em, ability, now, record }) => {
        authorizeAttributes(ability, 'create', 'Order', { tenantId: principal.tenantId, customerId: principal.id });
        const customer = await customerOnFirstSight(em, principal, now, record);
        const catalogue = await productsById(em, principal.tenantId, command.lines);
        const { order, event } = Order.place({ id: newId(), customer, requested: command.lines, catalogue, now });
        em.persist(order);
        record(event);
        return { aggregateType: 'Order', aggregateId: order.id };
      },
      options,
    );
  }
}

async function productsById(em: EntityManager, tenantId: string, lines: RequestedLine[]): Promise<Map<string, Product>> {
  const products = await em.find(Product, { tenantId, id: { $in: lines.map((line) => line.productId) } });
  return new Map(products.map((product) => [product.id, product]));
}
