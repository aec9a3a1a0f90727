import type { Orm } from '../../platform/db/orm.js';
import { eventFromLogRow, type EventLogRow } from '../../events/event-log.js';
import type { Projection } from './projection.js';
import type { Projector } from './projector.js';
import type { Timestamp } from '../../platform/clock.js';

export interface RebuildProgress {
  projection: string;
  total: number;
  applied: number;
  startedAt: Timestamp;
  finishedAt: Timestamp | null;
}

/**
 * Rebuilds a read model from the event log (the outbox, which keeps every event): empties the
 * projection's tables and inbox in one transaction, then replays every event it follows in log
 * order through the same inbox-guarded path as live delivery. Live events arriving meanwhile are
 * safe: whichever path applies an event first records it, the other skips it.
 */
export class ProjectionRebuilder {
  constructor(
    private readonly orm: Orm,
    private readonly projector: Projector,
    private readonly batchSize = 500,
  ) {}

  async rebuild(projection: Projection, onProgress: (progress: RebuildProgress) => void = () => {}): Promise<RebuildProgress> {
    const types = [...projection.eventTypes];
    await this.orm.em.fork().transactional(async (em) => {
      // Every projection transaction starts by inserting into processed_events, so taking this
      // lock first orders the reset after them and before the next ones: no lock cycle with
      // live projections (which deadlocked under load) or with a concurrent rebuild.
      await em.execute('lock table processed_events in share row exclusive mode');
      await em.execute(`truncate ${projection.tables.join(', ')}`);
      await em.execute('delete from processed_events where consumer = ?', [projection.name]);
    });
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
          this.batchSize,
        ]);
      if (!batch.length) break;
      for (const row of batch) await this.projector.applyOnce(projection, eventFromLogRow(row));
      after = String(batch.at(-1)!.position);
      progress.applied += batch.length;
      onProgress(progress);
    }
    progress.finishedAt = new Date().toISOString();
    onProgress(progress);
    return progress;
  }
}
