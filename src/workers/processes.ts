import type { Queue } from 'bullmq';
import type { Commands } from '../commands/index.js';
import type { CommandFailures } from '../commands/shared/command-failures.js';
import type { Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import type { SecretBox } from '../platform/secret-box.js';
import type { Orm } from '../platform/db/orm.js';
import type { Metrics } from '../platform/metrics.js';
import { requireDependencies } from '../platform/required.js';
import type { Projector } from '../queries/shared/projector.js';
import type { ConsumerSettings, JobHandler } from './consumer.js';
import type { PaymentGateway } from './payments/payment-gateway.js';
import { expiryHandler } from './processes/expiry.worker.js';
import { paymentsHandler } from './processes/payments.worker.js';
import { projectionsHandler } from './processes/projections.worker.js';
import { webhooksHandler } from './processes/webhooks.worker.js';
import type { QueueName } from './queues.js';

/** What processes may use: named dependencies, not the whole services bag. */
export interface ProcessDependencies {
  config: Config;
  orm: Orm;
  clock: Clock;
  metrics: Metrics;
  commands: Pick<Commands, 'recordPayment' | 'expireOrder'>;
  commandFailures: CommandFailures;
  projector: Projector;
  paymentGateway: PaymentGateway;
  queues: ReadonlyMap<QueueName, Queue>;
  /** Opens webhook signing secrets sealed at rest. */
  secrets: SecretBox;
}

export interface Process {
  handler: JobHandler;
  onDeadLetter?: ConsumerSettings['onDeadLetter'];
}

/** A process builder that receives only the dependencies it names, and refuses to start without one of them. */
export type ProcessFactory = ((deps: ProcessDependencies) => Process) & { needs: readonly (keyof ProcessDependencies)[] };

function defineProcess<K extends keyof ProcessDependencies>(
  name: QueueName,
  needs: readonly K[],
  build: (deps: Pick<ProcessDependencies, K>) => Process,
): ProcessFactory {
  const factory = (deps: ProcessDependencies) => {
    const own = Object.fromEntries(needs.map((need) => [need, deps[need]])) as Pick<ProcessDependencies, K>;
    return build(requireDependencies(`the ${name} process`, own));
  };
  return Object.assign(factory, { needs });
}

/**
 * The process that handles each queue's jobs. Keyed by every declared queue (src/workers/queues.ts),
 * so a queue without a process does not compile.
 */
export const PROCESSES: Record<QueueName, ProcessFactory> = {
  projections: defineProcess('projections', ['projector', 'metrics', 'commandFailures', 'queues'], (deps) => ({
    handler: projectionsHandler(deps.projector, deps.metrics, deps.queues.get('projections')!),
    // A command whose events cannot be projected is reported failed, not left "accepted" forever
    // (a batch's bad event is dead-lettered in a job of its own, which carries its command id).
    onDeadLetter: async (job, error) => {
      const commandId = (job.data as { commandId?: unknown } | null)?.commandId;
      if (typeof commandId === 'string') await deps.commandFailures.record(commandId, error.message);
    },
  })),
  payments: defineProcess('payments', ['commands', 'paymentGateway'], (deps) => ({
    handler: paymentsHandler(deps.commands.recordPayment, deps.paymentGateway),
  })),
  'order-expiry': defineProcess('order-expiry', ['commands', 'orm'], (deps) => ({
    handler: expiryHandler(deps.commands.expireOrder, deps.orm),
  })),
  webhooks: defineProcess('webhooks', ['orm', 'config', 'clock', 'queues', 'secrets'], (deps) => ({
    handler: webhooksHandler(deps),
  })),
};
