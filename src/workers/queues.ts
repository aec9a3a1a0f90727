import type { JobsOptions } from 'bullmq';

/** Every queue the service runs. Each has a dead-letter queue named `<queue>.dead-letter`. */
export const QUEUE_NAMES = ['projections', 'payments', 'order-expiry', 'webhooks'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const deadLetterQueueOf = (queue: QueueName): string => `${queue}.dead-letter`;

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

/**
 * Retry policy per queue. Completed jobs are kept a day so a re-published event with the same
 * job id is deduplicated by BullMQ; handlers are idempotent for the rarer redelivery after that.
 */
export function jobOptionsFor(
  queue: QueueName,
  attempts: { payments: number; webhooks: number; projections: number },
): JobsOptions {
  const common: JobsOptions = {
    removeOnComplete: { age: 24 * 3600, count: 50_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
  switch (queue) {
    case 'payments':
      return { ...common, attempts: attempts.payments, backoff: { type: 'exponential', delay: 500 } };
    case 'webhooks':
      return { ...common, attempts: attempts.webhooks, backoff: { type: 'exponential', delay: 1_000 } };
    case 'projections':
      return { ...common, attempts: attempts.projections, backoff: { type: 'exponential', delay: 250 } };
    default:
      return { ...common, attempts: 8, backoff: { type: 'exponential', delay: 250 } };
  }
}
