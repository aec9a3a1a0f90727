import { redisReady, type RedisClient } from '../platform/redis.js';
import { backlogOf } from './observed-state.js';
import type { QueueName } from './queues.js';
import type { QueueSet } from './queue-set.js';

// Spelled out rather than `Record<union, number>`: the OpenAPI document lists a Record's keys in
// the order TypeScript happened to create the literal types, which moves when unrelated code
// mentions one of them first; the published contract (and every client generated from it) must
// not change with that.
/** Jobs of the queue in each state. */
export interface JobCounts {
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  failed: number;
  completed: number;
}

export interface QueueOverview {
  name: QueueName;
  counts: JobCounts;
  backlog: number;
  oldestWaitingAgeSeconds: number;
  deadLetters: number;
}

/**
 * What operators do to queues, shared by the admin API and `npm run ops`. The queues are opened
 * through `openQueues` on the first call: the API opens them only when an operator asks.
 */
export class QueueOperations {
  constructor(
    private readonly openQueues: () => Promise<Pick<QueueSet, 'queues' | 'deadLetterQueues'>>,
    private readonly redis: RedisClient,
  ) {}

  async overview(): Promise<QueueOverview[]> {
    await redisReady(this.redis);
    const { queues, deadLetterQueues } = await this.openQueues();
    return Promise.all(
      [...queues].map(async ([name, queue]) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
        const [oldest] = await queue.getJobs(['waiting'], -1, -1, true);
        const deadLetters = await deadLetterQueues.get(name)!.getJobCountByTypes('waiting', 'delayed', 'failed');
        return {
          name,
          counts: {
            waiting: counts.waiting ?? 0,
            active: counts.active ?? 0,
            delayed: counts.delayed ?? 0,
            prioritized: counts.prioritized ?? 0,
            failed: counts.failed ?? 0,
            completed: counts.completed ?? 0,
          },
          backlog: await backlogOf(queue, this.redis),
          oldestWaitingAgeSeconds: oldest ? Math.round((Date.now() - oldest.timestamp) / 1000) : 0,
          deadLetters,
        };
      }),
    );
  }

  /**
   * Sends dead letters back to their queue for a fresh set of attempts: the original failed job
   * is retried when it still exists, otherwise re-added under its id. Each dead letter is removed
   * once its job is back, so a redrive interrupted half-way can simply be run again.
   */
  async redrive(queueName: QueueName, limit = 1000): Promise<{ redriven: number }> {
    const { queues, deadLetterQueues } = await this.openQueues();
    const queue = queues.get(queueName)!;
    const deadLetters = await deadLetterQueues.get(queueName)!.getJobs(['waiting', 'delayed', 'failed'], 0, limit - 1, true);
    for (const letter of deadLetters) {
      const { jobId, name, data } = letter.data;
      const original = jobId ? await queue.getJob(jobId) : undefined;
      if (original && (await original.isFailed()))
        await original.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      else {
        if (original) await original.remove();
        await queue.add(name, data, jobId ? { jobId } : {});
      }
      await letter.remove();
    }
    return { redriven: deadLetters.length };
  }
}
