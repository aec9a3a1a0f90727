import { systemPrincipal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner } from '../shared/command-runner.js';
import { orderForUpdate } from './order.repository.js';

export interface ExpireOrder {
  tenantId: string;
  orderId: string;
}

/** The delayed expiry job: an order still awaiting payment expires; a paid or cancelled one is left alone. */
export class ExpireOrderHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(command: ExpireOrder): Promise<AcceptedCommand & { expired: boolean }> {
    return this.runner.run('ExpireOrder', systemPrincipal(command.tenantId), async ({ em, now, record }) => {
      const order = await orderForUpdate(em, command.tenantId, command.orderId);
      const expired = order.isAwaitingPayment;
      if (expired) record(order.expire(now));
      return { aggregateType: 'Order', aggregateId: order.id, expired };
    });
  }
}
