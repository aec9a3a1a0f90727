import { setTimeout as delay } from 'node:timers/promises';
import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import type { JobsOptions, Queue } from 'bullmq';
import pg from 'pg';
import { eventFromLogRow, OUTBOX_CHANNEL, type EventLogRow } from '../../events/event-log.js';
import type { EventEnvelope } from '../../events/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/orm.js';
import type { Logger } from '../../platform/logger.js';
import { requireDependencies } from '../../platform/required.js';
import { contextFromCarrier, currentTraceCarrier } from '../../platform/telemetry/propagation.js';
import type { QueueName, Route } from '../queues.js';

export interface RelaySettings {
  databaseUrl: string;
  batchSize: number;
  pollIntervalMs: number;
  /** Event type -> the queues that receive it (derived from src/workers/queues.ts). */
  routes: ReadonlyMap<string, readonly Route[]>;
  /** BullMQ waits for Redis instead of failing; the relay gives up after this and rolls back. */
  publishTimeoutMs: number;
}

const tracer = trace.getTracer('outbox-relay');

interface BulkJob {
  name: string;
  data: EventEnvelope;
  opts: JobsOptions;
}

/**
 * Moves committed events from the outbox to their BullMQ queues. Each cycle claims a batch of
 * unpublished rows with FOR UPDATE SKIP LOCKED (so several relays share the work without
 * publishing a row twice at once), enqueues one job per route with the event id as job id,
 * and marks the rows published in the same transaction. If Redis is down the transaction rolls
 * back and the rows wait; if the process dies after enqueueing, the rows are claimed again and
 * BullMQ's job id (plus idempotent consumers) absorbs the repeat.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private listener: pg.Client | undefined;
  private wake: (() => void) | undefined;
  /** Set by a NOTIFY that arrived while a cycle was running: the next sleep is skipped. */
  private notified = false;
  /** Ends an uninterruptible sleep early, for stop() only. */
  private stopping: (() => void) | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly queues: ReadonlyMap<QueueName, Queue>,
    private readonly settings: RelaySettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    requireDependencies('the outbox relay', { orm, queues, settings, clock, logger });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.listen();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    this.stopping?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  /** One claim-enqueue-mark cycle; returns how many events it published. */
  async publishBatch(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const rows = await em.execute<EventLogRow[]>(
        `select * from outbox_events where published_at is null order by position limit ? for update skip locked`,
        [this.settings.batchSize],
      );
      if (!rows.length) return 0;
      await withTimeout(this.publishAll(rows), this.settings.publishTimeoutMs);
      await em.execute('update outbox_events set published_at = now() where id in (?)', [rows.map((row) => row.id)]);
      return rows.length;
    });
  }

  /**
   * One span per batch, linked to the trace of every event in it (a batch serves many requests),
   * while each event's own publish span continues that event's trace and is what its jobs carry
   * to their consumers. The jobs of a batch go out with one `addBulk` per queue (one Redis round
   * trip per queue instead of one per job).
   */
  private publishAll(rows: EventLogRow[]): Promise<unknown> {
    const links = rows
      .map((row) => trace.getSpanContext(contextFromCarrier(row.trace_context)))
      .filter((spanContext) => spanContext !== undefined)
      .map((spanContext) => ({ context: spanContext }));
    return tracer.startActiveSpan(
      'relay batch',
      { root: true, links, attributes: { 'messaging.batch.message_count': rows.length } },
      async (span) => {
        const published: Span[] = [];
        try {
          const jobsByQueue = new Map<QueueName, BulkJob[]>();
          for (const row of rows) published.push(this.jobsOf(row, jobsByQueue));
          return await Promise.all([...jobsByQueue].map(([queue, jobs]) => this.queueOf(queue).addBulk(jobs)));
        } finally {
          for (const eventSpan of published) eventSpan.end();
          span.end();
        }
      },
    );
  }

  /** Files one job per route of the row's event under its queue; returns the event's publish span. */
  private jobsOf(row: EventLogRow, jobsByQueue: Map<QueueName, BulkJob[]>): Span {
    const event = eventFromLogRow(row);
    const parent = contextFromCarrier(row.trace_context);
    const span = tracer.startSpan(
      `publish ${event.type}`,
      { kind: SpanKind.PRODUCER, attributes: { 'event.id': event.id } },
      parent,
    );
    // What BullMQ's telemetry would propagate from inside this span: the consumer's span joins the event's trace.
    const metadata = JSON.stringify(context.with(trace.setSpan(parent, span), () => currentTraceCarrier() ?? {}));
    for (const route of this.settings.routes.get(event.type) ?? []) {
      const jobs = jobsByQueue.get(route.queue) ?? [];
      jobsByQueue.set(route.queue, jobs);
      jobs.push({
        name: event.type,
        data: event,
        opts: { jobId: event.id, delay: this.delayFor(route, event), telemetry: { metadata } },
      });
    }
    return span;
  }

  private queueOf(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue ${name} is open in the relay`);
    return queue;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        this.notified = false;
        const published = await this.publishBatch();
        failures = 0;
        if (published === this.settings.batchSize) continue;
        await this.sleep(this.settings.pollIntervalMs);
      } catch (error) {
        failures += 1;
        this.logger.warn('outbox relay cycle failed; events stay in the outbox', { error: String(error), failures });
        // A backoff is not cut short by commits: during an outage every commit would retry at once.
        await this.sleep(Math.min(this.settings.pollIntervalMs * 2 ** failures, 10_000), { wakeOnNotify: false });
      }
    }
  }

  /** Waits for a NOTIFY from a committing command (unless told not to), or `ms`, whichever is first. */
  private async sleep(ms: number, { wakeOnNotify = true } = {}): Promise<void> {
    if (!this.running || (wakeOnNotify && this.notified)) return;
    const woken = new Promise<void>((resolve) => {
      if (wakeOnNotify) this.wake = resolve;
      else this.stopping = resolve;
    });
    const abort = new AbortController();
    await Promise.race([woken, delay(ms, undefined, { signal: abort.signal }).catch(() => undefined)]);
    abort.abort();
    this.wake = undefined;
    this.stopping = undefined;
  }

  private async listen(): Promise<void> {
    while (this.running) {
      const client = new pg.Client({ connectionString: this.settings.databaseUrl });
      try {
        const closed = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        await client.connect();
        client.on('notification', () => this.poke());
        await client.query(`listen ${OUTBOX_CHANNEL}`);
        this.listener = client;
        this.poke(); // anything committed while we were not listening
        await closed;
      } catch (error) {
        this.logger.debug('outbox listener unavailable; relying on polling', { error: String(error) });
      } finally {
        await client.end().catch(() => undefined);
      }
      if (this.running) await delay(this.settings.pollIntervalMs);
    }
  }

  private poke(): void {
    this.notified = true;
    this.wake?.();
  }

  /** Delays count from when the event occurred, so relay lag never lengthens a timeout. */
  private delayFor(route: Route, event: EventEnvelope): number {
    if (!route.delayMs) return 0;
    const dueAt = new Date(event.occurredAt).getTime() + route.delayMs;
    return Math.max(0, dueAt - this.clock.now().getTime());
  }
}

/**
 * Rejects when `work` takes longer than `ms`. A job whose add completes after the rollback is
 * published again later under the same job id, which BullMQ deduplicates.
 */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`publishing to Redis took longer than ${ms} ms; rolled back`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
