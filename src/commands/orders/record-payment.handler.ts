import type { OrderSnapshot } from '../../events/index.js';
import { systemPrincipal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandContext, CommandRunner, VersionedCommandContext } from '../shared/command-runner.js';
import { Order } from './order.entity.js';
import { orderForUpdate } from './order.repository.js';

export type PaymentOutcome = { approved: true; authorizationId: string } | { approved: false; reason: string };

export interface RecordPayment {
  tenantId: string;
  orderId: string;
  outcome: PaymentOutcome;
  /** The order as its OrderPlaced event left it, when the caller has that event: the answer is then recorded without reading the order first. */
  placed?: { order: OrderSnapshot; version: number };
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
 * Nearly always the order is still as it was placed: then the decision is made on the order as
 * OrderPlaced left it and written in one statement that applies only at that version. When the
 * order has moved on (a redelivered answer, a cancellation first), the order is read and locked
 * and decides again.
 */
export class RecordPaymentHandler {
  constructor(private readonly runner: CommandRunner) {}

  async handle(command: RecordPayment): Promise<PaymentRecorded> {
    return (await this.onPlacedOrder(command)) ?? this.onLockedOrder(command);
  }

  private onPlacedOrder(command: RecordPayment): Promise<PaymentRecorded | null> {
    const { placed } = command;
    if (!placed) return Promise.resolve(null);
    return this.runner.runAtVersion('RecordPayment', systemPrincipal(command.tenantId), (context) => {
      const order = Order.asPlaced(command.tenantId, placed.order, placed.version);
      return { target: decide(order, command, context), aggregate: order, expectedVersion: placed.version };
    });
  }

  private onLockedOrder(command: RecordPayment): Promise<PaymentRecorded> {
    return this.runner.run('RecordPayment', systemPrincipal(command.tenantId), async (context) => {
      const order = await orderForUpdate(context.em, command.tenantId, command.orderId);
      return decide(order, command, context);
    });
  }
}

/** The order records the answer if it still awaits one. */
function decide(
  order: Order,
  command: RecordPayment,
  { now, record }: Pick<CommandContext | VersionedCommandContext, 'now' | 'record'>,
) {
  const applied = order.isAwaitingPayment;
  if (applied) {
    const { outcome } = command;
    record(outcome.approved ? order.pay(outcome.authorizationId, now) : order.failPayment(outcome.reason, now));
  }
  return { aggregateType: 'Order', aggregateId: order.id, applied, wasPaid: order.hasBeenPaid };
}
