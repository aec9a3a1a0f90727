import { eventFromLogRow, type EventLogRow } from '../../events/event-log.js';
import type { Timestamp } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/orm.js';
import { AppError, NotFoundError } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import { redisReady, type RedisClient } from '../../platform/redis.js';
import type { Projection } from './projection.js';
import type { Projector } from './projector.js';

export interface RebuildProgress {
  projection: string;
  total: number;
  applied: number;
  startedAt: Timestamp;
  finishedAt: Timestamp | null;
}

export class RebuildRunningError extends AppError {
  constructor(projection: string) {
    super('conflict', 'projection.rebuild-running', `A rebuild of ${projection} is already running`);
  }
}

export interface RebuildSettings {
  /** Prefix of the Redis keys that hold each rebuild's lock and progress. */
  prefix: string;
  batchSize?: number;
  /** Most events applied in one transaction (50). */
  eventsPerTransaction?: number | undefined;
}

/**
 * Rebuilds read models from the event log (the outbox, which keeps every event). One rebuild per
 * projection at a time, whoever starts it (HTTP or the ops CLI): a lock in Redis guards it and its
 * progress is kept there, so any API replica can report it.
 *
 * A rebuild empties the projection's tables and inbox in one transaction, then replays every event
 * it follows in log order through the same inbox-guarded path as live delivery, a batch of events
 * per transaction. Live events
 * arriving meanwhile are safe: whichever path applies an event first records it, the other skips it.
 */
export class ProjectionRebuilds {
  constructor(
    private readonly orm: Orm,
    private readonly projector: Projector,
    private readonly projections: readonly Projection[],
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    private readonly settings: RebuildSettings,
  ) {}

  projectionNamed(name: string): Projection {
    const projection = this.projections.find((candidate) => candidate.name === name);
    if (!projection) throw new NotFoundError('Projection', name);
    return projection;
  }

  /** Starts a rebuild in the background and returns its first progress report (HTTP). */
  async start(name: string): Promise<RebuildProgress> {
    let first: RebuildProgress | undefined;
    const reported = new Promise<RebuildProgress>((resolve, reject) => {
      this.run(name, (progress) => {
        first ??= { ...progress };
        resolve(first);
      }).catch((error: unknown) => {
        if (!first) return reject(error); // refused before it began (unknown projection, already running)
        this.logger.error('projection rebuild failed', { projection: name, error: String(error) });
      });
    });
    return reported;
  }

  /** Rebuilds `name` to completion (the ops CLI waits on this), with its progress kept for `status`. */
  async run(name: string, onProgress: (progress: RebuildProgress) => void = () => {}): Promise<RebuildProgress> {
    const projection = this.projectionNamed(name);
    await redisReady(this.redis);
    const locked = await this.redis.set(this.key(name, 'lock'), '1', 'EX', 3600, 'NX');
    if (!locked) throw new RebuildRunningError(name);
    try {
      return await this.replay(projection, (progress) => {
        void this.save(progress);
        onProgress(progress);
      });
    } finally {
      await this.redis.del(this.key(name, 'lock'));
    }
  }

  async status(name: string): Promise<RebuildProgress> {
    this.projectionNamed(name);
    const saved = await this.redis.get(this.key(name, 'progress'));
    if (!saved) throw new NotFoundError('Rebuild', name);
    return JSON.parse(saved) as RebuildProgress;
  }

  private async replay(projection: Projection, onProgress: (progress: RebuildProgress) => void): Promise<RebuildProgress> {
    const types = [...projection.eventTypes];
    await this.reset(projection);
    const [{ total } = { total: '0' }] = await this.orm.em
      .fork()
      .execute<{ total: string }[]>('select count(*) as total from outbox_events where type in (?)', [types]);
    const progress: RebuildProgress = {
      projection: projection.name,
      total: Number(total),
      applied: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    onProgress(progress);

    for (let after = '0'; ;) {
      const batch = await this.orm.em
        .fork()
        .execute<EventLogRow[]>('select * from outbox_events where type in (?) and position > ? order by position limit ?', [
          types,
          after,
          this.settings.batchSize ?? 500,
        ]);
      if (!batch.length) break;
      const step = this.settings.eventsPerTransaction ?? 50;
      for (let from = 0; from < batch.length; from += step)
        await this.projector.projectAllFor(projection, batch.slice(from, from + step).map(eventFromLogRow));
      after = String(batch.at(-1)!.position);
      progress.applied += batch.length;
      onProgress(progress);
    }
    progress.finishedAt = new Date().toISOString();
    onProgress(progress);
    return progress;
  }

  /** Empties the projection's tables and its inbox rows, together. */
  private async reset(projection: Projection): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      // Every projection transaction inserts into processed_events before it changes a read model,
      // so taking this lock first orders the reset after them and before the next ones: no lock cycle with
      // live projections (which deadlocked under load) or with a concurrent rebuild.
      await em.execute('lock table processed_events in share row exclusive mode');
      await em.execute(`truncate ${projection.tables.join(', ')}`);
      await em.execute('delete from processed_events where consumer = ?', [projection.name]);
    });
  }

  private async save(progress: RebuildProgress): Promise<void> {
    await this.redis
      .set(this.key(progress.projection, 'progress'), JSON.stringify(progress), 'EX', 7 * 86400)
      .catch(() => undefined);
  }

  private key(name: string, what: string): string {
    return `${this.settings.prefix}:rebuild:${name}:${what}`;
  }
}
