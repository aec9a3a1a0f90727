/**
 * The benchmark's raw baseline for the background side, written by hand: a plain BullMQ worker
 * whose job is what a projection does, in `pg` with no ORM: one transaction holding the inbox
 * row (processed_events) and a version-guarded upsert of the order's read-model row. The harness
 * adds the jobs (`add`), so "enqueue -> visible" here is the floor the service's "command
 * accepted -> visible" (outbox, relay, queue, projection) is compared with. Run as its own
 * process: `node dist/test/bench/raw/raw-worker.js` with DATABASE_URL, REDIS_URL, QUEUE_PREFIX,
 * PORT (readiness) and CONCURRENCY.
 */
import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import pg from 'pg';

export interface RawOrderJob {
  eventId: string;
  orderId: string;
  tenantId: string;
  customerId: string;
  totalCents: number;
  version: number;
  at: string;
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const redisUrl = new URL(process.env.REDIS_URL!);

const worker = new Worker<RawOrderJob>(
  'raw-orders',
  async (job) => {
    const event = job.data;
    const client = await pool.connect();
    try {
      await client.query('begin');
      const first = await client.query(
        `insert into processed_events (consumer, event_id) values ('raw', $1) on conflict do nothing returning event_id`,
        [event.eventId],
      );
      if (first.rowCount) {
        await client.query(
          `insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
             total_cents, currency, status, status_history, placed_at, updated_at, version)
           values ($1, $2, $3, $3, '', 1, '[]', $4, 'EUR', 'placed', '[]', $5, $5, $6)
           on conflict (id) do update set total_cents = excluded.total_cents, updated_at = excluded.updated_at,
             version = excluded.version
           where order_view.version < excluded.version`,
          [event.orderId, event.tenantId, event.customerId, event.totalCents, event.at, event.version],
        );
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  },
  {
    connection: { host: redisUrl.hostname, port: Number(redisUrl.port || 6379), maxRetriesPerRequest: null },
    prefix: process.env.QUEUE_PREFIX!,
    concurrency: Number(process.env.CONCURRENCY ?? 10),
  },
);
worker.on('error', (error) => console.error(error));

await worker.waitUntilReady();
const health = createServer((_request, response) => void response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  health.close();
  void worker.close().then(() => pool.end());
});
