import { authorize } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { orderForUpdate } from './order.repository.js';

export interface CancelOrder {
  orderId: string;
  reason?: string | undefined;
}

/** A customer cancels their own order while placed or paid (paid ones are refunded); staff and admin any of the tenant. */
export class CancelOrderHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: CancelOrder, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      'CancelOrder',
      principal,
      async ({ em, ability, now, record }) => {
        const order = await orderForUpdate(em, principal.tenantId, command.orderId);
        authorize(ability, 'cancel', 'Order', order);
        record(order.cancel(now, command.reason));
        return { aggregateType: 'Order', aggregateId: order.id };
      },
      options,
    );
  }
}
