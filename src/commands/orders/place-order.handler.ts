import { newId } from '../../platform/ids.js';
import { authorizeAttributes } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { customerOnFirstSight } from '../customers/customer-registry.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { Order, type RequestedLine } from './order.entity.js';
import { placementFacts } from './order.repository.js';

export interface PlaceOrder {
  lines: RequestedLine[];
}

/** A customer places an order for themself, at the catalogue's current prices. */
export class PlaceOrderHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: PlaceOrder, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.create(
      'PlaceOrder',
      principal,
      async ({ em, ability, now, record, add, needsTransaction }) => {
        authorizeAttributes(ability, 'create', 'Order', { tenantId: principal.tenantId, customerId: principal.id });
        const productIds = command.lines.map((line) => line.productId);
        const facts = await placementFacts(em, principal.tenantId, principal.id, productIds);
        // A customer's first order also creates their profile: two writes, one transaction.
        if (!facts.customer) needsTransaction();
        const customer = facts.customer ?? (await customerOnFirstSight(em, principal, now, record));
        const { order, event } = Order.place({
          id: newId(),
          customer,
          requested: command.lines,
          catalogue: facts.catalogue,
          now,
        });
        add(order);
        record(event);
        return { aggregateType: 'Order', aggregateId: order.id };
      },
      options,
    );
  }
}
