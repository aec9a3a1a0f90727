import type { JobType, Queue } from 'bullmq';
import { isEventBatch } from '../../src/workers/job-envelope.js';

/** The ids of the events a job carries: a batch's events, else its own id (job id = event id). */
export function eventIdsOf(job: { id?: string | undefined; data: unknown; opts?: { jobId?: string | undefined } }): string[] {
  if (isEventBatch(job.data)) return job.data.events.map((event) => (event as { id: string }).id);
  return [job.id ?? job.opts!.jobId!];
}

/** The ids of the events the jobs of `queue` in these states carry, sorted, one entry per job that carries it. */
export async function carriedEvents(queue: Queue, states: JobType[]): Promise<string[]> {
  const jobs = await queue.getJobs(states);
  return jobs.flatMap((job) => eventIdsOf(job)).sort();
}
