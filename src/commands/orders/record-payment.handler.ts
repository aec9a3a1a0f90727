import { systemPrincipal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner } from '../shared/command-runner.js';
import { orderForUpdate } from './order.repository.js';

export type PaymentOutcome = { approved: true; authorizationId: string } | { approved: false; reason: string };

export interface RecordPayment {
  tenantId: string;
  orderId: string;
  outcome: PaymentOutcome;
}

export interface PaymentRecorded extends AcceptedCommand {
  /** False when the order no longer awaited payment: nothing changed. */
  applied: boolean;
  /** The order has been paid (now or by an earlier delivery of the same result). */
  wasPaid: boolean;
}

/**
 * The payment process reports the gateway's answer through the command path, like any other
 * change: the order entity decides, and the outbox carries OrderPaid or OrderPaymentFailed.
 */
export class RecordPaymentHandler {
  constructor(private readonly runner: CommandRunner) {}

  async handle(command: RecordPayment): Promise<PaymentRecorded> {
    return this.runner.run('RecordPayment', systemPrincipal(command.tenantId), async ({ em, now, record }) => {
      const order = await orderForUpdate(em, command.tenantId, command.orderId);
      const applied = order.isAwaitingPayment;
      if (applied) {
        const { outcome } = command;
        record(outcome.approved ? order.pay(outcome.authorizationId, now) : order.failPayment(outcome.reason, now));
      }
      return { aggregateType: 'Order', aggregateId: order.id, applied, wasPaid: order.hasBeenPaid };
    });
  }
}
