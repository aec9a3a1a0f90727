import type { Queue } from 'bullmq';
import { redisTarget, type Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { openQueue, QueueConnections } from '../platform/queues.js';
import type { DeadLetter } from './consumer.js';
import { QUEUE_NAMES, deadLetterQueueOf, jobOptionsFor, type QueueName } from './queues.js';

/**
 * Every BullMQ queue of the service and its dead-letter queue, on one set of Redis connections.
 * This module is what loads BullMQ: the composition root imports it only when a process opens its
 * queues (src/composition-root.ts, `queues`).
 */
export interface QueueSet {
  queues: ReadonlyMap<QueueName, Queue>;
  deadLetterQueues: ReadonlyMap<QueueName, Queue<DeadLetter>>;
  /** The Redis connections of the queues and of the process's workers (shared clients on a cluster). */
  queueConnections: QueueConnections;
}

export function openQueueSet(config: Config, logger: Logger): QueueSet {
  const queueConnections = new QueueConnections(redisTarget(config));
  const settings = { connections: queueConnections, prefix: config.QUEUE_PREFIX };
  const queues = new Map(QUEUE_NAMES.map((name) => [name, openQueue(name, settings, jobOptionsFor(name, config))]));
  const deadLetterQueues = new Map(QUEUE_NAMES.map((name) => [name, openQueue<DeadLetter>(deadLetterQueueOf(name), settings)]));
  for (const queue of [...queues.values(), ...deadLetterQueues.values()]) {
    queue.on('error', (error) => logger.debug('queue connection problem', { queue: queue.name, error: error.message }));
  }
  return { queues, deadLetterQueues, queueConnections };
}

/** After the process's workers have stopped. Settles even while Redis is down (shutdown must not hang on it). */
export async function closeQueueSet({ queues, deadLetterQueues, queueConnections }: QueueSet): Promise<void> {
  await Promise.allSettled([...queues.values(), ...deadLetterQueues.values()].map((queue) => queue.close()));
  queueConnections.close();
}
