import { Queue, Worker, type ConnectionOptions, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { openRedis, producerConnection, workerConnection, type RedisClient, type RedisTarget } from './redis.js';

/**
 * The Redis connections a process's queues and workers use. On a single server BullMQ gets
 * connection options and owns (and closes) its clients, one per queue or worker. On a cluster
 * BullMQ must be handed a Cluster client (from options it would build a plain Redis client), and
 * it never closes clients it is handed: so all queues share one fail-fast Cluster client, all
 * workers share one patient Cluster client (each worker duplicates it for its blocking
 * connection, which BullMQ owns and closes), and `close()` ends both.
 */
export class QueueConnections {
  private producer: RedisClient | undefined;
  private worker: RedisClient | undefined;

  constructor(readonly target: RedisTarget) {}

  forQueues(): ConnectionOptions {
    if (!this.target.clusterNodes) return producerConnection(this.target.url) as ConnectionOptions;
    this.producer ??= openRedis(this.target, 'producer');
    return this.producer as unknown as ConnectionOptions;
  }

  forWorkers(): ConnectionOptions {
    if (!this.target.clusterNodes) return workerConnection(this.target.url) as ConnectionOptions;
    this.worker ??= openRedis(this.target, 'worker');
    return this.worker as unknown as ConnectionOptions;
  }

  /** After every queue and worker of the process has closed. */
  close(): void {
    this.producer?.disconnect();
    this.worker?.disconnect();
  }
}

export interface QueueSettings {
  connections: QueueConnections;
  /** Hash-tagged (`{cqrs}`) so all of a queue's keys land on one Redis Cluster slot. */
  prefix: string;
}

/** BullMQ spans join the trace of whoever enqueued the job. */
const telemetry = new BullMQOtel({ tracerName: 'bullmq' });

/** A producer-side queue: fails fast while Redis is down instead of buffering in memory. */
export function openQueue<T = unknown>(name: string, settings: QueueSettings, defaultJobOptions?: JobsOptions): Queue<T> {
  return new Queue<T>(name, {
    connection: settings.connections.forQueues(),
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
    connection: settings.connections.forWorkers(),
    prefix: settings.prefix,
    telemetry,
    autorun: true,
    ...options,
  });
}
