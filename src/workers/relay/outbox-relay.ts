import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import type { JobsOptions, Queue } from 'bullmq';
import pg from 'pg';
import { eventFromLogRow, OUTBOX_CHANNEL, type EventLogRow } from '../../events/event-log.js';
import type { EventEnvelope } from '../../events/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/logger.js';
import { requireDependencies } from '../../platform/required.js';
import { contextFromCarrier, currentTraceCarrier } from '../../platform/telemetry/propagation.js';
import { BATCH_JOB_NAME, type EventBatch } from '../job-envelope.js';
import type { QueueName, Route } from '../queues.js';

export interface RelaySettings {
  databaseUrl: string;
  batchSize: number;
  pollIntervalMs: number;
  /**
   * While the relay claims at least `abovePerSecond` rows a second (decayed over about the last
   * second), it waits `ms` after each cycle before claiming again instead of waking on the next
   * NOTIFY. Under load the next cycle then claims what committed meanwhile in one go: the cycle's
   * two round trips, its `addBulk` per queue and the projection job it files (one transaction, a
   * worker's wake-ups) are shared by more events. Below that rate an event waits for nothing but
   * its NOTIFY; a rate, not a cycle's size, so that the backlog a stall leaves at light load is not
   * taken for load (it would delay the events that follow the stall, the slowest ones already).
   * Unset or 0 ms: no linger.
   */
  linger?: { ms: number; abovePerSecond: number };
  /** Event type -> the queues that receive it (derived from src/workers/queues.ts). */
  routes: ReadonlyMap<string, readonly Route[]>;
  /** BullMQ waits for Redis instead of failing; the relay gives up after this and rolls back. */
  publishTimeoutMs: number;
}

const tracer = trace.getTracer('outbox-relay');

/** The relay session's application_name. */
export const RELAY_SESSION_NAME = 'outbox-relay';

/**
 * The transaction-scoped advisory lock a relay cycle holds (per database): "outbox" in ASCII.
 * While one relay's cycle holds it, another relay's cycle claims nothing.
 */
export const RELAY_CYCLE_LOCK = 122_550_254_464_888;

/**
 * The session-level advisory lock of the leading relay (per database): "leader" in ASCII. The
 * relay that holds it LISTENs and runs the cycles; every other relay stands by, trying it once per
 * poll, and takes over when the leader's session ends (its process stopped, crashed or lost the
 * connection; TCP keepalives bound how long a vanished host keeps it).
 */
export const RELAY_LEADER_LOCK = 119_182_681_466_226;

/**
 * The relay session's TCP keepalives, in seconds (idle, interval, count): a leader whose host
 * vanished without closing its connection loses the lock after about 10 + 5 x 3 = 25 s instead of
 * the operating system's default of over two hours. Ignored on a Unix socket.
 */
const SESSION_KEEPALIVES = { idle: 10, interval: 5, count: 3 } as const;

/** What one cycle did: `skipped` when another relay's cycle was running (this one claimed nothing). */
interface Cycle {
  published: number;
  skipped: boolean;
}

/** An event on its way to a batched queue, with its publish span's trace context. */
interface PublishedEvent {
  event: EventEnvelope;
  metadata: string;
}

/** A cycle's events per batched route, in log order. */
type Batched = Map<Route, PublishedEvent[]>;

interface BulkJob {
  name: string;
  data: EventEnvelope | EventBatch;
  opts: JobsOptions;
}

/**
 * Moves committed events from the outbox to their BullMQ queues. Each cycle claims a batch of
 * unpublished rows with FOR UPDATE SKIP LOCKED (so several relays share the work without
 * publishing a row twice at once), enqueues one job per route with the event id as job id
 * (a route with an `onlyIf` condition only when the claim found it true for the row), or, for a
 * queue that takes batches, the cycle's events in jobs of up to its batch size (a job id derived
 * from the ids of the events in it), and marks the rows published in the same transaction. If
 * Redis is down the transaction rolls back and the rows wait; if the process dies after
 * enqueueing, the rows are claimed again and BullMQ's job id (plus idempotent consumers) absorbs
 * the repeat. A re-claimed event may land in a batch of another composition, and so in a second
 * job: the consumer's inbox is what keeps it from being applied twice.
 *
 * The relay works on one session of its own, which also LISTENs for the commits' NOTIFY: a
 * cycle is two round trips (`begin` + claim, then mark + `commit`, each sent as one simple
 * query) and never waits for a pooled connection behind the jobs of the process's other roles.
 *
 * Several relays run as one leader and standbys, so that a second replica costs (nearly) nothing
 * and never splits the work into smaller cycles: the relay holding RELAY_LEADER_LOCK on its session
 * LISTENs and cycles; the others neither LISTEN nor claim, and try the lock once per poll. The lock
 * goes with the leader's session, so a standby takes over within a poll interval of the leader's
 * end. A cycle also claims only while it holds RELAY_CYCLE_LOCK (`pg_try_advisory_xact_lock`,
 * released by its commit or rollback, or by PostgreSQL when its session dies), so a cycle run
 * through `publishBatch` (tests, tools) never overlaps the leader's either; and SKIP LOCKED keeps
 * a row from being claimed twice at once whatever the locks.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  /** The relay's session: the claim transactions, and while it leads the lock and LISTEN. Replaced when it fails. */
  private session: Promise<pg.Client> | undefined;
  /** The session on which this relay holds RELAY_LEADER_LOCK (and LISTENs); unset while it stands by. */
  private leaderSession: pg.Client | undefined;
  private wake: (() => void) | undefined;
  /** Rows claimed, decayed with a time constant of one second: about the last second's (RelaySettings.linger). */
  private recentRows = 0;
  private recentAt = 0;
  /** Set by a NOTIFY that arrived while a cycle was running: the next sleep is skipped. */
  private notified = false;
  /** Ends an uninterruptible sleep early, for stop() only. */
  private stopping: (() => void) | undefined;
  /** Each route condition (a queue's `onlyIf`) -> the claim's column that holds it for a row. */
  private readonly conditions: ReadonlyMap<string, string>;
  private readonly claim: string;

  constructor(
    private readonly queues: ReadonlyMap<QueueName, Queue>,
    private readonly settings: RelaySettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    requireDependencies('the outbox relay', { queues, settings, clock, logger });
    // Written into the claim's SQL text.
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1)
      throw new Error('the relay batch size must be a positive integer');
    const conditions = [...new Set([...settings.routes.values()].flat().flatMap((route) => route.onlyIf ?? []))];
    this.conditions = new Map(conditions.map((condition, index) => [condition, `only_if_${index}`]));
    this.claim = claimStatement(settings.batchSize, this.conditions);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Ends the loop after its cycle, then the session (also for a relay only ever asked for `publishBatch`). */
  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    this.stopping?.();
    await this.loop;
    const session = this.session;
    this.session = undefined;
    await session?.then((client) => client.end()).catch(() => undefined);
  }

  /** One claim-enqueue-mark cycle; returns how many events it published (0 while another relay's cycle runs). */
  async publishBatch(): Promise<number> {
    return (await this.cycle()).published;
  }

  private async cycle(): Promise<Cycle> {
    const client = await this.connected();
    try {
      const [, { rows }] = (await client.query(this.claim)) as unknown as [pg.QueryResult, pg.QueryResult<ClaimedRow>];
      const skipped = rows[0]?.leads !== true;
      const claimed = rows.filter((row) => row.id !== null);
      if (claimed.length) await withTimeout(this.publishAll(claimed), this.settings.publishTimeoutMs);
      const ids = client.escapeLiteral(`{${claimed.map((row) => row.id).join(',')}}`);
      await client.query(
        claimed.length ? `update outbox_events set published_at = now() where id = any(${ids}::uuid[]); commit` : 'commit',
      );
      return { published: claimed.length, skipped };
    } catch (error) {
      // Nothing was marked: the rows stay unpublished (a dead session rolls back on its own).
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /**
   * One span per batch, linked to the trace of every event in it (a batch serves many requests),
   * while each event's own publish span continues that event's trace and is what its jobs carry
   * to their consumers; a job carrying several events continues the batch span's trace (which
   * links every event's). The jobs of a cycle go out with one `addBulk` per queue (one Redis round
   * trip per queue instead of one per job).
   */
  private publishAll(rows: ClaimedRow[]): Promise<unknown> {
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
          const batched: Batched = new Map();
          for (const row of rows) published.push(this.jobsOf(row, jobsByQueue, batched));
          const metadata = JSON.stringify(currentTraceCarrier() ?? {});
          for (const [route, events] of batched) jobsByQueue.set(route.queue, batchJobs(events, route.batchSize!, metadata));
          return await Promise.all([...jobsByQueue].map(([queue, jobs]) => this.queueOf(queue).addBulk(jobs)));
        } finally {
          for (const eventSpan of published) eventSpan.end();
          span.end();
        }
      },
    );
  }

  /**
   * Files one job per route of the row's event under its queue (or the event under its route, for
   * a queue that takes batches); returns the event's publish span.
   */
  private jobsOf(row: ClaimedRow, jobsByQueue: Map<QueueName, BulkJob[]>, batched: Batched): Span {
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
      if (route.onlyIf !== undefined && row[this.conditions.get(route.onlyIf)!] !== true) continue;
      if (route.batchSize) {
        const events = batched.get(route) ?? [];
        batched.set(route, events);
        events.push({ event, metadata });
        continue;
      }
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
        const cycle = (await this.leads()) ? await this.cycle() : undefined;
        failures = 0;
        const lingerMs = this.lingerAfter(cycle?.published ?? 0);
        // Standing by (no NOTIFY reaches this session), or another cycle holds the cycle lock (one
        // run through publishBatch, which drains what it claims): the next try is the next poll.
        if (!cycle || cycle.skipped) await this.sleep(this.settings.pollIntervalMs, { wakeOnNotify: false });
        // A full batch: more rows wait, so the next cycle runs at once.
        else if (cycle.published >= this.settings.batchSize) continue;
        // Under load: let what commits meanwhile gather for the next cycle (RelaySettings.linger).
        else if (lingerMs > 0) await this.sleep(lingerMs, { wakeOnNotify: false });
        else await this.sleep(this.settings.pollIntervalMs);
      } catch (error) {
        failures += 1;
        this.logger.warn('outbox relay cycle failed; events stay in the outbox', { error: String(error), failures });
        // A backoff is not cut short by commits: during an outage every commit would retry at once.
        await this.sleep(Math.min(this.settings.pollIntervalMs * 2 ** failures, 10_000), { wakeOnNotify: false });
      }
    }
  }

  /**
   * Adds a cycle's rows to the decayed count (about the rows claimed in the last second), and
   * returns how long to linger after that cycle: 0 below the linger's rate, or when it claimed nothing.
   */
  private lingerAfter(rows: number): number {
    const now = performance.now();
    this.recentRows = this.recentRows * Math.exp(-(now - this.recentAt) / 1000) + rows;
    this.recentAt = now;
    const linger = this.settings.linger;
    return linger && rows > 0 && this.recentRows >= linger.abovePerSecond ? linger.ms : 0;
  }

  /**
   * Whether this relay leads: it does once its session holds RELAY_LEADER_LOCK, tried here (one
   * round trip per poll while standing by). The winner LISTENs from then on; a NOTIFY it missed
   * meanwhile is covered by the cycle that follows, which claims whatever is unpublished.
   */
  private async leads(): Promise<boolean> {
    const client = await this.connected();
    if (this.leaderSession === client) return true;
    const { rows } = await client.query<{ leads: boolean }>(`select pg_try_advisory_lock(${RELAY_LEADER_LOCK}) as leads`);
    if (rows[0]?.leads !== true) return false;
    await client.query(`listen ${OUTBOX_CHANNEL}`);
    this.leaderSession = client;
    this.logger.info('outbox relay leads; other relays stand by');
    return true;
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

  /**
   * The relay's session; a lost one is dropped (and the loop poked) so that the next cycle opens
   * another, standing by until it wins the leader lock again: a cycle that cannot connect fails and
   * backs off like any other.
   */
  private connected(): Promise<pg.Client> {
    if (this.session) return this.session;
    const session: Promise<pg.Client> = this.connect(() => {
      if (this.session === session) this.session = undefined;
      this.poke();
    });
    this.session = session;
    session.catch(() => {
      if (this.session === session) this.session = undefined;
    });
    return session;
  }

  private async connect(lost: () => void): Promise<pg.Client> {
    // Named, so that operators (and tests) can tell the relay's session in pg_stat_activity.
    const client = new pg.Client({
      connectionString: this.settings.databaseUrl,
      application_name: RELAY_SESSION_NAME,
      // The client's side: a server that vanished is noticed too.
      keepAlive: true,
      keepAliveInitialDelayMillis: SESSION_KEEPALIVES.idle * 1000,
    });
    const drop = (error?: Error) => {
      if (error) this.logger.debug('outbox relay session lost; the next cycle reconnects', { error: error.message });
      if (this.leaderSession === client) {
        this.leaderSession = undefined;
        this.logger.info('outbox relay stopped leading (its session ended)');
      }
      void client.end().catch(() => undefined);
      lost();
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', () => this.poke());
    try {
      await client.connect();
      const { idle, interval, count } = SESSION_KEEPALIVES;
      await client.query(
        `set tcp_keepalives_idle = ${idle}; set tcp_keepalives_interval = ${interval}; set tcp_keepalives_count = ${count}`,
      );
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
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
 * A batched route's events in jobs of up to `size`, in log order. A lone event goes as the job it
 * would be without batching (its id, its trace); several go as one job whose id is a digest of
 * their ids: the same events published again are one job, other compositions another.
 */
function batchJobs(events: readonly PublishedEvent[], size: number, metadata: string): BulkJob[] {
  const jobs: BulkJob[] = [];
  for (let from = 0; from < events.length; from += size) {
    const chunk = events.slice(from, from + size);
    if (chunk.length === 1) {
      const [{ event, metadata: own }] = chunk as [PublishedEvent];
      jobs.push({ name: event.type, data: event, opts: { jobId: event.id, telemetry: { metadata: own } } });
      continue;
    }
    const ids = chunk.map(({ event }) => event.id);
    const jobId = `batch-${createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 32)}`;
    jobs.push({
      name: BATCH_JOB_NAME,
      data: { events: chunk.map(({ event }) => event) },
      opts: { jobId, telemetry: { metadata } },
    });
  }
  return jobs;
}

/** A claimed row, with the value of each route condition for it (`only_if_<n>`), and whether the cycle holds the lock. */
type ClaimedRow = EventLogRow & { leads: boolean } & Record<string, unknown>;

/**
 * `begin` and the claim, sent as one simple query. The cycle's lock is tried once (a materialized
 * CTE) and the rows are claimed only if it was taken (a one-time filter: a relay that stands by
 * locks no row and reads no index); `leads` says which, on a row of nulls when nothing was
 * claimed. The routes' conditions are evaluated in the claiming statement, on the rows it locked:
 * the same snapshot, no further round trip.
 */
function claimStatement(batchSize: number, conditions: ReadonlyMap<string, string>): string {
  const locked = `select * from outbox_events where (select leads from relay) and published_at is null
    order by position limit ${batchSize} for update skip locked`;
  const columns = [...conditions].map(([condition, column]) => `, (${condition}) as ${column}`).join('');
  return `begin; with relay as materialized (select pg_try_advisory_xact_lock(${RELAY_CYCLE_LOCK}) as leads),
    claimed as (${locked})
    select relay.leads, event.*${columns} from relay left join claimed event on true order by event.position`;
}

/**
 * Rejects when `work` takes longer than `ms`. A job whose add completes after the rollback is
 * published again later: under the same job id, which BullMQ deduplicates, or in a batch of
 * another composition, whose events the consumer's inbox skips.
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
