import { Redis } from 'ioredis';
import { withClient } from './context.js';
import { percentile, round } from './stats.js';

/**
 * Where one order's freshness goes, stage by stage, from timestamps the pipeline already leaves
 * behind (wall clock, all processes on this machine): the command's `occurred_at` (API, before
 * its commit), the 202 at the harness, the relay's claim (`published_at` is `now()` of the
 * claiming transaction, i.e. when it started), the BullMQ `timestamp` of the projections job that
 * carried the event (built by the relay just before `addBulk`; a batch of the cycle's events or a
 * job of its own), `processedOn` (a projection worker took it) and `finishedOn` (its transaction
 * committed), and when the harness's watcher first saw the row.
 */
export interface StageTimes {
  /** Per stage: the time since the previous one, p50/p99/max in ms over every order. */
  stages: Record<string, { p50: number; p99: number; max: number }>;
  orders: number;
}

const STAGES = [
  ['commit and answer (occurred -> 202 at the harness)', 'occurred', 'accepted'],
  ['202 -> relay claims the row', 'accepted', 'claimed'],
  ['occurred -> relay claims the row', 'occurred', 'claimed'],
  ['claim -> job built (claim query, rows to jobs)', 'claimed', 'built'],
  ['job built -> a projection worker takes it (addBulk, wake-up, wait)', 'built', 'taken'],
  ['taken -> projected (the projection transaction)', 'taken', 'finished'],
  [
    'projected -> seen by the watcher (10 ms polls; BullMQ stamps finishedOn after the commit, so it can be < 0)',
    'finished',
    'visible',
  ],
  ['202 -> visible (the freshness figure)', 'accepted', 'visible'],
] as const;

type Point = 'occurred' | 'accepted' | 'claimed' | 'built' | 'taken' | 'finished' | 'visible';

/**
 * Reads the outbox rows of every OrderPlaced event and the projection job that carried each (a
 * job of its own or a batch; completed jobs are kept, see JOB_RETENTION) and lines them up with
 * the harness's own times per order id (wall clock, ms).
 */
export async function stageTimes(
  databaseUrl: string,
  redisUrl: string,
  prefix: string,
  harness: Map<string, { accepted: number; visible: number }>,
): Promise<StageTimes> {
  const rows = await withClient(databaseUrl, async (client) => {
    const result = await client.query<{ order_id: string; event_id: string; occurred: string; claimed: string }>(
      `select aggregate_id as order_id, id as event_id,
              (extract(epoch from occurred_at) * 1000)::float8 as occurred,
              (extract(epoch from published_at) * 1000)::float8 as claimed
         from outbox_events where type = 'OrderPlaced' and published_at is not null`,
    );
    return result.rows;
  });
  const redis = new Redis(redisUrl);
  const points: Array<Record<Point, number>> = [];
  try {
    const jobs = await projectionJobsByEvent(redis, prefix);
    for (const row of rows) {
      const own = harness.get(row.order_id);
      const job = jobs.get(row.event_id);
      if (!own || !job) continue;
      points.push({
        occurred: Number(row.occurred),
        accepted: own.accepted,
        claimed: Number(row.claimed),
        ...job,
        visible: own.visible,
      });
    }
  } finally {
    redis.disconnect();
  }
  const stages: StageTimes['stages'] = {};
  for (const [name, from, to] of STAGES) {
    const spans = points.map((point) => point[to] - point[from]);
    stages[name] = { p50: round(percentile(spans, 50)), p99: round(percentile(spans, 99)), max: round(Math.max(...spans)) };
  }
  return { stages, orders: points.length };
}

/** Each completed projections job's times, per event it carried (its own job, or a batch). */
async function projectionJobsByEvent(
  redis: Redis,
  prefix: string,
): Promise<Map<string, Pick<Record<Point, number>, 'built' | 'taken' | 'finished'>>> {
  const ids = await redis.zrange(`${prefix}:projections:completed`, '0', '-1');
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(`${prefix}:projections:${id}`, 'data', 'timestamp', 'processedOn', 'finishedOn');
  const jobs = (await pipeline.exec()) ?? [];
  const byEvent = new Map<string, Pick<Record<Point, number>, 'built' | 'taken' | 'finished'>>();
  for (const [, fields] of jobs) {
    const [data, built, taken, finished] = (fields as Array<string | null> | undefined) ?? [];
    if (!data || !built || !taken || !finished) continue;
    const parsed = JSON.parse(data) as { id?: string; events?: Array<{ id: string }> };
    const times = { built: Number(built), taken: Number(taken), finished: Number(finished) };
    for (const event of parsed.events ?? [parsed]) if (event.id) byEvent.set(event.id, times);
  }
  return byEvent;
}
