import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger.js';

/** How often the event-loop lag histogram (nodejs_eventloop_lag_*) samples, in ms. */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The service's Prometheus instruments, one registry per process. Names follow Prometheus
 * conventions (units in the name, `_total` for counters); labels stay bounded: route templates,
 * queue and projection names, never ids or raw paths. ops/grafana and ops/prometheus use them.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_server_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Every command, query and job, by kind, name and outcome (see src/platform/observe.ts). */
  readonly partCalls = new Counter({
    name: 'cqrs_handled_total',
    help: 'Commands, queries and jobs handled, by kind, name and outcome (ok, rejected, failed)',
    labelNames: ['kind', 'name', 'outcome'],
    registers: [this.registry],
  });
  readonly partDuration = new Histogram({
    name: 'cqrs_handle_duration_seconds',
    help: 'Time to handle a command, query or job, by kind, name and outcome',
    labelNames: ['kind', 'name', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobsCompleted = this.jobCounter('cqrs_jobs_completed_total', 'Jobs completed');
  readonly jobsFailed = this.jobCounter('cqrs_jobs_failed_total', 'Job attempts that failed');
  readonly jobsRetried = this.jobCounter('cqrs_jobs_retried_total', 'Failed job attempts that will be retried');
  readonly jobsDeadLettered = this.jobCounter('cqrs_jobs_dead_lettered_total', 'Jobs moved to their dead-letter queue');
  readonly jobDuration = new Histogram({
    name: 'cqrs_job_duration_seconds',
    help: 'Job processing time by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly projectionLag = new Gauge({
    name: 'cqrs_projection_lag_seconds',
    help: 'Age of the newest event a projection applied, at the time it applied it',
    labelNames: ['projection'],
    registers: [this.registry],
  });
  readonly projectionEvents = new Counter({
    name: 'cqrs_projection_events_applied_total',
    help: 'Events applied by each projection (redeliveries excluded)',
    labelNames: ['projection'],
    registers: [this.registry],
  });

  /** A gauge read at scrape time could not be read: it kept its last values (see gaugeAtScrape). */
  readonly collectionFailures = new Counter({
    name: 'cqrs_metric_collection_failures_total',
    help: 'Scrapes at which a gauge could not be collected (it kept its last values)',
    labelNames: ['metric'],
    registers: [this.registry],
  });
  /** Background upkeep (idempotency-key purge, ...) that failed. */
  readonly housekeepingFailures = new Counter({
    name: 'cqrs_housekeeping_failures_total',
    help: 'Housekeeping runs that failed, by task',
    labelNames: ['task'],
    registers: [this.registry],
  });

  constructor(
    labels: { service: string; process: string },
    private readonly logger?: Logger,
  ) {
    this.registry.setDefaultLabels(labels);
    // The event-loop lag histogram samples on a timer that wakes the loop: prom-client's default
    // of every 10 ms woke an idle worker 100 times a second, more wake-ups than its jobs caused.
    // A stall still shows in full (the timer fires late by its length); 100 ms only samples less.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  /**
   * A gauge whose value is read from the world at scrape time. When reading fails it keeps its
   * last values (an autoscaler reading a queue's depth must not see it drop to 0 because Redis
   * blinked), and the failure is counted and logged so alerts see it.
   */
  gaugeAtScrape(name: string, help: string, labelNames: string[], collect: (gauge: Gauge) => Promise<void>): Gauge {
    const staging = new Gauge({ name, help, labelNames, registers: [] });
    const failed = (error: unknown) => {
      this.collectionFailures.inc({ metric: name });
      this.logger?.warn('metric collection failed; the gauge keeps its last values', { metric: name, error: String(error) });
    };
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        staging.reset();
        try {
          await collect(staging);
        } catch (error) {
          return failed(error);
        }
        this.reset();
        for (const { labels, value } of (await staging.get()).values) this.set(labels, value);
      },
    });
  }

  private jobCounter(name: string, help: string): Counter {
    return new Counter({ name, help, labelNames: ['queue'], registers: [this.registry] });
  }
}
