import type { Job } from 'bullmq';
import type { Metrics } from '../../platform/metrics.js';
import type { Projector } from '../../queries/shared/projector.js';
import { eventFromJob } from '../job-envelope.js';

/** Applies each event to every read model that follows it (each guarded by its inbox). */
export function projectionsHandler(projector: Projector, metrics: Metrics) {
  return async (job: Job): Promise<{ applied: string[] }> => {
    const event = eventFromJob(job.data);
    const applied = await projector.project(event);
    const lagSeconds = (Date.now() - Date.parse(event.occurredAt)) / 1000;
    for (const projection of applied) {
      metrics.projectionEvents.inc({ projection });
      metrics.projectionLag.set({ projection }, lagSeconds);
    }
    return { applied };
  };
}
