import type { Job, Queue } from 'bullmq';
import type { DomainEvent } from '../../events/index.js';
import { isDatabaseUnavailable } from '../../platform/db/unavailable.js';
import type { Metrics } from '../../platform/metrics.js';
import type { BatchOutcome, Projector } from '../../queries/shared/projector.js';
import { eventFromJob, isEventBatch, type EventBatch } from '../job-envelope.js';

/** What a projections job did: events applied per projection, and the events sent on alone. */
export interface ProjectionsResult {
  applied: Record<string, number>;
  /** Events of a batch that go on as jobs of their own (job id = event id), each with why. */
  alone: Array<{ id: unknown; reason: string }>;
}

/**
 * Applies each event to every read model that follows it (each guarded by its inbox). A job
 * carries one event or a batch (src/workers/queues.ts: `batchSize`); a batch is applied in one
 * transaction. When that fails, its events are applied one by one and those that fail go on as
 * jobs of their own, with the queue's attempts, backoff and dead-letter queue: one bad event ends
 * alone in the dead-letter queue (redrivable) while the rest of its batch is applied. A batch
 * that ran before (its worker died in it, or it failed) is not run again as a whole: each of its
 * events goes on alone, so an event that takes its worker down cannot take the others with it.
 */
export function projectionsHandler(projector: Projector, metrics: Metrics, projections: Queue) {
  // Label children bound once per projection: every applied event passes here, and a label lookup hashes its labels.
  const boundMetrics = new Map<string, { events: { inc(): void }; lag: { set(seconds: number): void } }>();
  const metricsOf = (projection: string) => {
    let bound = boundMetrics.get(projection);
    if (!bound) {
      bound = { events: metrics.projectionEvents.labels(projection), lag: metrics.projectionLag.labels(projection) };
      boundMetrics.set(projection, bound);
    }
    return bound;
  };
  const record = (outcome: BatchOutcome, result: ProjectionsResult) => {
    for (const { event, applied } of outcome) {
      const lagSeconds = (Date.now() - Date.parse(event.occurredAt)) / 1000;
      for (const projection of applied) {
        const bound = metricsOf(projection);
        bound.events.inc();
        bound.lag.set(lagSeconds);
        result.applied[projection] = (result.applied[projection] ?? 0) + 1;
      }
    }
    return result;
  };
  const sendAlone = async (events: Array<{ data: unknown; reason: string }>, result: ProjectionsResult) => {
    if (!events.length) return result;
    await projections.addBulk(
      events.map(({ data }) => {
        const { id, type } = (data ?? {}) as { id?: unknown; type?: unknown };
        return { name: typeof type === 'string' ? type : 'event', data, opts: typeof id === 'string' ? { jobId: id } : {} };
      }),
    );
    result.alone.push(...events.map(({ data, reason }) => ({ id: (data as { id?: unknown } | null)?.id, reason })));
    return result;
  };

  const projectOne = async (event: DomainEvent): Promise<ProjectionsResult> =>
    record([{ event, applied: await projector.project(event) }], { applied: {}, alone: [] });

  const projectBatch = async (job: Job<EventBatch>): Promise<ProjectionsResult> => {
    const result: ProjectionsResult = { applied: {}, alone: [] };
    if (job.stalledCounter > 0 || job.attemptsMade > 0)
      return sendAlone(
        job.data.events.map((data) => ({ data, reason: 'its batch ran before' })),
        result,
      );
    const events: DomainEvent[] = [];
    const failing: Array<{ data: unknown; reason: string }> = [];
    for (const data of job.data.events) {
      try {
        events.push(eventFromJob(data));
      } catch (error) {
        failing.push({ data, reason: String(error) });
      }
    }
    try {
      record(await projector.projectAll(events), result);
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      for (const event of events) {
        try {
          record([{ event, applied: await projector.project(event) }], result);
        } catch (cause) {
          if (isDatabaseUnavailable(cause)) throw cause;
          failing.push({ data: event, reason: String(cause) });
        }
      }
    }
    return sendAlone(failing, result);
  };

  return async (job: Job): Promise<ProjectionsResult> =>
    isEventBatch(job.data) ? projectBatch(job as Job<EventBatch>) : projectOne(eventFromJob(job.data));
}
