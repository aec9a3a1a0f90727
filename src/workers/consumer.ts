import { DelayedError, UnrecoverableError, type Job, type Queue, type Worker } from 'bullmq';
import type { ConnectionWarnings } from '../platform/connection-warnings.js';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { isUnreachable, unreachableMessage } from '../platform/dependencies.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Observer } from '../platform/observe.js';
import { withLogContext } from '../platform/logger.js';
import { requireDependencies } from '../platform/required.js';
import { openWorker, type QueueSettings } from '../platform/queues.js';
import { describeRedis } from '../platform/redis.js';
import { STALLS_PER_ATTEMPT, type QueueName } from './queues.js';

export type JobHandler = (job: Job) => Promise<unknown>;

export interface ConsumerSettings extends QueueSettings {
  concurrency: number;
  lockDurationMs: number;
  /** BullMQ's stall limit: a backstop above the consumer's own budget (maxStalledCountFor in queues.ts). */
  maxStalledCount: number;
  metrics: Metrics;
  observer: Observer;
  connectionWarnings: ConnectionWarnings;
  /** Called once a job is dead-lettered (for example to mark its command failed). */
  onDeadLetter?: (job: Job, error: Error) => Promise<void>;
}

export interface DeadLetter {
  queue: QueueName;
  jobId: string | undefined;
  name: string;
  data: unknown;
  failedReason: string;
  attemptsMade: number;
  deadLetteredAt: string;
}

/** A job whose workers died under it more often than its attempt allows (STALLS_PER_ATTEMPT). */
export class JobStalledTooOftenError extends Error {
  override name = 'JobStalledTooOftenError';
}

/**
 * While PostgreSQL cannot be reached a job waits this long and tries again without using an
 * attempt: an outage longer than a queue's backoff (payments: 0.5 + 1 + 2 + 4 s) must not
 * dead-letter every job that ran into it.
 */
export const DATABASE_OUTAGE_RETRY_MS = 1_000;

/** BullMQ's reason for a job it failed itself past `maxStalledCount` (the processor never ran). */
const BULLMQ_STALL_LIMIT = 'job stalled more than allowable limit';

/**
 * Runs `handler` for every job of `queue`. Cross-cutting work lives here, not in handlers: a log
 * context per job, the observer's span, metrics and log line, and dead-lettering once a job is out of attempts or its payload is
 * unrecoverable. The dead-letter queue keeps the original name and data for a redrive. A job that
 * stalled past its attempt's budget fails that attempt here, so it takes the same retry and
 * dead-letter path as any other failure.
 */
export function startConsumer(
  queue: QueueName,
  handler: JobHandler,
  deadLetters: Queue<DeadLetter>,
  settings: ConsumerSettings,
  logger: Logger,
): Worker {
  const { metrics, observer, connectionWarnings } = settings;
  requireDependencies(`the ${queue} consumer`, { handler, deadLetters, logger, metrics, observer, connectionWarnings });
  // The span, the log line and the generic outcome metrics; retries and dead letters are ours.
  const observed = settings.observer.runner('job', queue);
  // Label children bound once: every job passes here, and a label lookup hashes its labels.
  const completed = { count: metrics.jobsCompleted.labels(queue), duration: metrics.jobDuration.labels(queue, 'completed') };
  const failed = { count: metrics.jobsFailed.labels(queue), duration: metrics.jobDuration.labels(queue, 'failed') };
  const processJob = async (job: Job, token: string | undefined) => {
    const started = performance.now();
    try {
      const result = await observed(() => {
        assertStallBudget(job);
        return handler(job);
      });
      completed.count.inc();
      completed.duration.observe((performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      failed.count.inc();
      failed.duration.observe((performance.now() - started) / 1000);
      if (token && isDatabaseUnavailable(failure)) return waitForDatabase(job, token, failure);
      if (isLastAttempt(job, failure)) await deadLetter(job, failure);
      else {
        metrics.jobsRetried.inc({ queue });
        logger.warn('job failed; will retry', { attempt: job.attemptsMade + 1, error: failure.message });
      }
      throw failure;
    }
  };
  const waitForDatabase = async (job: Job, token: string, error: Error): Promise<never> => {
    connectionWarnings.warn('PostgreSQL', 'PostgreSQL is unavailable; jobs wait for it without using attempts', {
      queue,
      error: error.message,
    });
    await job.moveToDelayed(Date.now() + DATABASE_OUTAGE_RETRY_MS, token);
    throw new DelayedError();
  };
  const deadLetter = async (job: Job, error: Error) => {
    logger.error('job dead-lettered', { error: error.message });
    metrics.jobsDeadLettered.inc({ queue });
    // Dead-lettered before the job is marked failed: a crash in between retries the job, and
    // the job id keeps the dead letter single.
    await deadLetters
      .add(job.name, deadLetterOf(queue, job, error), { jobId: job.id })
      .catch((cause: unknown) =>
        logger.error('could not dead-letter; the job stays failed in its queue', { error: String(cause) }),
      );
    await settings
      .onDeadLetter?.(job, error)
      .catch((cause: unknown) => logger.error('dead-letter hook failed', { error: String(cause) }));
  };

  const worker = openWorker(
    queue,
    (job, token) => withLogContext({ queue, jobId: job.id, job: job.name }, () => processJob(job, token)),
    settings,
    {
      concurrency: settings.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.lockDurationMs,
      maxStalledCount: settings.maxStalledCount,
    },
  );
  // Backstop: should BullMQ ever fail a job through its own stall limit, the processor never ran,
  // so the job is dead-lettered here rather than left failed where no operator looks.
  worker.on('failed', (job, error) => {
    if (job && error.message === BULLMQ_STALL_LIMIT)
      void withLogContext({ queue, jobId: job.id, job: job.name }, () => deadLetter(job, error));
  });
  // BullMQ reports connection trouble here (without a listener Node would crash the worker), once
  // per reconnect attempt of every queue: those lines are rate-limited per dependency.
  worker.on('error', (error) => {
    if (isUnreachable(error))
      settings.connectionWarnings.warn('Redis', unreachableMessage('Redis', describeRedis(settings.connections.target), error));
    else logger.warn('worker connection problem', { queue, error: error.message });
  });
  return worker;
}

/** Stalls are counted over the job's life (BullMQ's `stalledCounter`); each attempt adds a budget. */
function assertStallBudget(job: Job): void {
  const allowed = STALLS_PER_ATTEMPT * (job.attemptsMade + 1);
  if (job.stalledCounter > allowed) {
    throw new JobStalledTooOftenError(
      `job stalled ${job.stalledCounter} times (its worker died or lost the lock while running it); ${allowed} allowed by attempt ${job.attemptsMade + 1}`,
    );
  }
}

function isLastAttempt(job: Job, error: Error): boolean {
  return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function deadLetterOf(queue: QueueName, job: Job, error: Error): DeadLetter {
  return {
    queue,
    jobId: job.id,
    name: job.name,
    data: job.data,
    failedReason: error.message,
    attemptsMade: job.attemptsMade + 1,
    deadLetteredAt: new Date().toISOString(),
  };
}
