import type { Job } from 'bullmq';
import type { Projector } from '../../queries/shared/projector.js';
import { eventFromJob } from '../job-envelope.js';

/** Applies each event to every read model that follows it (each guarded by its inbox). */
export function projectionsHandler(projector: Projector) {
  return async (job: Job): Promise<{ applied: string[] }> => {
    const event = eventFromJob(job.data);
    return { applied: await projector.project(event) };
  };
}
