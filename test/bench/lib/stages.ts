import { Redis } from 'ioredis';
import { withClient } from './context.js';
import { percentile, round } from './stats.js';

/**
 * Where one order's freshness goes, stage by stage, from timestamps the pipeline already leaves
 * behind (wall clock, all processes on this machine): the command's `occurred_at` (API, before
 * its commit), the 202 at the harness, the relay's claim (`published_at` is `now()` of the
 * claiming transaction, i.e. when it started), the projection job's BullMQ `timestamp` (built by
 * the relay just before `addBulk`), `processedOn` (a projection worker took it) and `finishedOn`
 * (its transaction committed), and when the harness's watcher first saw the row.
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
 * Reads the outbox rows of every OrderPlaced event and the projection job of each (job id = event
 * id; completed jobs are kept, see JOB_RETENTION) and lines them up with the harness's own
 * times per order id (wall clock, ms).
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
    const pipeline = redis.pipeline();
    for (const row of rows) pipeline.hmget(`${prefix}:projections:${row.event_id}`, 'timestamp', 'processedOn', 'finishedOn');
    const jobs = (await pipeline.exec()) ?? [];
    rows.forEach((row, i) => {
      const own = harness.get(row.order_id);
      const [built, taken, finished] = (jobs[i]?.[1] as Array<string | null> | undefined) ?? [];
      if (!own || !built || !taken || !finished) return;
      points.push({
        occurred: Number(row.occurred),
        accepted: own.accepted,
        claimed: Number(row.claimed),
        built: Number(built),
        taken: Number(taken),
        finished: Number(finished),
        visible: own.visible,
      });
    });
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
