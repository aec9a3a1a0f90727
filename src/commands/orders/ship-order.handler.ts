import { authorize } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { orderForUpdate } from './order.repository.js';

export interface ShipOrder {
  orderId: string;
}

/** Staff or admin ship a paid order. */
export class ShipOrderHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: ShipOrder, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      'ShipOrder',
      principal,
      async ({ em, ability, now, record }) => {
        const order = await orderForUpdate(em, principal.tenantId, command.orderId);
        authorize(ability, 'ship', 'Order', order);
        record(order.ship(now));
        return { aggregateType: 'Order', aggregateId: order.id };
      },
      options,
    );
  }
}
