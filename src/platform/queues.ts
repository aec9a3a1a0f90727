import { Queue, Worker, type ConnectionOptions, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { producerConnection, workerConnection } from './redis.js';

export interface QueueSettings {
  redisUrl: string;
  /** Hash-tagged (`{cqrs}`) so all of a queue's keys land on one Redis Cluster slot. */
  prefix: string;
}

/** BullMQ spans join the trace of whoever enqueued the job. */
const telemetry = new BullMQOtel({ tracerName: 'bullmq' });

/** A producer-side queue: fails fast while Redis is down instead of buffering in memory. */
export function openQueue<T = unknown>(name: string, settings: QueueSettings, defaultJobOptions?: JobsOptions): Queue<T> {
  return new Queue<T>(name, {
    connection: producerConnection(settings.redisUrl) as ConnectionOptions,
    prefix: settings.prefix,
    telemetry,
    ...(defaultJobOptions ? { defaultJobOptions } : {}),
  });
}

/** A consumer: reconnects forever, never drops a job because Redis blinked. */
export function openWorker<T = unknown>(
  name: string,
  processor: Processor<T>,
  settings: QueueSettings,
  options: Partial<WorkerOptions> = {},
): Worker<T> {
  return new Worker<T>(name, processor, {
    connection: workerConnection(settings.redisUrl) as ConnectionOptions,
    prefix: settings.prefix,
    telemetry,
    autorun: true,
    ...options,
  });
}
