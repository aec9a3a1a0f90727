/**
 * Where the bench's PostgreSQL sessions wait: samples pg_stat_activity of every database whose
 * name starts with `WAIT_DATABASES` [bench_] every `WAIT_INTERVAL_MS` [20] ms until interrupted
 * (or `WAIT_SECONDS`), then prints when each database was active and, per database and session
 * kind (application_name and the first read model or write-side table its statement names), the
 * active sessions per sample by wait event (`CPU` when none).
 *
 *   npx tsx test/bench/wait-sampler.ts & ... ; kill -INT %1
 */
import pg from 'pg';

const env = process.env;
const prefix = env.WAIT_DATABASES ?? 'bench_';
const interval = Number(env.WAIT_INTERVAL_MS ?? 20);
const seconds = Number(env.WAIT_SECONDS ?? 0);

const client = new pg.Client({ connectionString: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
await client.connect();
const counts = new Map<string, number>();
let samples = 0;
/** When each database had active sessions (UTC), to tell one bench run's from another's. */
const seen = new Map<string, { first: string; last: string }>();
let running = true;
process.on('SIGINT', () => (running = false));
process.on('SIGTERM', () => (running = false));
const started = Date.now();
while (running && (!seconds || Date.now() - started < seconds * 1000)) {
  const { rows } = await client.query<{ kind: string; wait: string; n: number }>(
    `select datname || ' ' || coalesce(nullif(application_name, ''), 'unnamed') ||
              coalesce(' ' || substring(query from '(pg_notify|daily_sales|customer_summary|order_view|outbox_events|command_log)'), '') as kind,
            coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait, count(*)::int as n
       from pg_stat_activity where datname like $1 and state = 'active' and pid <> pg_backend_pid()
      group by 1, 2`,
    [`${prefix}%`],
  );
  samples++;
  const now = new Date().toISOString().slice(11, 19);
  for (const { kind, wait, n } of rows) {
    counts.set(`${kind} ${wait}`, (counts.get(`${kind} ${wait}`) ?? 0) + n);
    const database = kind.split(' ')[0]!;
    seen.set(database, { first: seen.get(database)?.first ?? now, last: now });
  }
  await new Promise((resolve) => setTimeout(resolve, interval));
}
const elapsed = (Date.now() - started) / 1000;
await client.end();
console.log(`${samples} samples over ${elapsed.toFixed(0)} s`);
for (const [database, { first, last }] of seen) console.log(`${database}: active ${first}-${last}`);
console.log('active sessions per sample, by database, session kind and wait:');
for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 60))
  console.log(`${(n / samples).toFixed(3).padStart(8)}  ${key}`);
