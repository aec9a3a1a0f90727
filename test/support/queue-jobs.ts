import { Worker, type ConnectionOptions } from 'bullmq';
import { workerConnection } from '../../src/platform/redis.js';
import type { QueueName } from '../../src/workers/queues.js';
import type { TestService } from './test-service.js';

/**
 * Puts a job in the `failed` state of `queue` without running that queue's real worker: the job
 * is added with one attempt, taken by a bare worker and failed by hand, as a crashing handler would.
 * The queue must have no other waiting job (the bare worker takes the oldest).
 */
export async function failedJob(service: TestService, queue: QueueName, jobId: string, reason = 'payment gateway unreachable') {
  const { config, services } = service;
  await services.queues.get(queue)!.add('OrderPlaced', sampleEvent(jobId), { jobId, attempts: 1 });
  const worker = new Worker(queue, undefined, {
    connection: workerConnection(config.REDIS_URL) as ConnectionOptions,
    prefix: config.QUEUE_PREFIX,
    autorun: false,
  });
  try {
    const job = await worker.getNextJob('test-lock');
    if (job?.id !== jobId)
      throw new Error(`expected to take job ${jobId} from ${queue}, got ${job?.id} (leave no waiting jobs behind)`);
    const failure = new Error(reason);
    failure.stack = `Error: ${reason}`; // no test frames in the dashboard (or its screenshots)
    await job.moveToFailed(failure, 'test-lock');
  } finally {
    await worker.close();
  }
}

/** An event envelope as the relay enqueues it; `payload` holds the business data the board must hide. */
export function sampleEvent(id: string) {
  return {
    id,
    position: '1',
    type: 'OrderPlaced',
    schemaVersion: 1,
    tenantId: 'acme',
    aggregateType: 'Order',
    aggregateId: `order-${id}`,
    aggregateVersion: 1,
    commandId: `command-${id}`,
    occurredAt: new Date().toISOString(),
    payload: { customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, totalCents: 2500 },
    traceContext: null,
  };
}
