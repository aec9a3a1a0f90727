/**
 * What NOTIFY costs a committing transaction, outside the service: `NOTIFY_CLIENTS` [16]
 * sessions commit one tiny autocommitted insert each, open loop at `NOTIFY_RATE` [200] commits/s
 * for `NOTIFY_SECONDS` [8] s, once per mode, the modes interleaved `NOTIFY_ROUNDS` [2] times:
 *
 * - `plain`: `insert into t`;
 * - `notify`: the same insert with `pg_notify` in the same statement (as the command path and
 *   order_view's row trigger did);
 * - `after`: the plain insert, then `Notifier.notify` (src/platform/db/notifier.ts: the NOTIFY
 *   after the commit, on a session of its own with `synchronous_commit = off`, coalesced).
 *
 * PostgreSQL takes a cluster-wide lock in PreCommit_Notify and holds it through the commit's WAL
 * flush, so NOTIFYing commits flush one at a time where plain ones share a flush (group commit).
 * A sampler reads pg_stat_activity every 10 ms and counts the wait events of the sessions.
 * Prints commit latency p50/p99/max and waits per sample. Uses its own database on DATABASE_URL.
 *
 *   npx tsx test/bench/notify-commit.ts
 */
import pg from 'pg';
import { Notifier, NOTIFIER_SESSION } from '../../src/platform/db/notifier.js';
import type { Logger } from '../../src/platform/logger.js';
import { percentile, round } from './lib/stats.js';

const env = process.env;
const serverUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const clients = Number(env.NOTIFY_CLIENTS ?? 16);
const rate = Number(env.NOTIFY_RATE ?? 200);
const seconds = Number(env.NOTIFY_SECONDS ?? 8);
const rounds = Number(env.NOTIFY_ROUNDS ?? 2);
const APP = 'notify-commit-bench';

const statements = {
  plain: 'insert into t (v) values (1)',
  notify: "with i as (insert into t (v) values (1)) select pg_notify('notify_commit_bench', '')",
  /** The plain insert, then the NOTIFY through the service's Notifier (its own session, after the commit). */
  after: 'insert into t (v) values (1)',
};
type Mode = keyof typeof statements;
const logger = { debug: () => undefined, warn: console.warn } as unknown as Logger;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(databaseUrl: string, mode: Mode) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: clients, application_name: APP });
  pool.on('error', () => undefined);
  const notifier = new Notifier({ databaseUrl }, logger);
  const warm = await Promise.all(Array.from({ length: clients }, () => pool.connect()));
  warm.forEach((client) => client.release());
  const waits = new Map<string, number>();
  let samples = 0;
  const sampler = new pg.Client({ connectionString: databaseUrl });
  sampler.on('error', () => undefined);
  await sampler.connect();
  let sampling = true;
  const sampling$ = (async () => {
    while (sampling) {
      const { rows } = await sampler.query<{ wait: string }>(
        `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait from pg_stat_activity
          where application_name = any($1) and state = 'active'`,
        [[APP, NOTIFIER_SESSION]],
      );
      samples++;
      for (const { wait } of rows) waits.set(wait, (waits.get(wait) ?? 0) + 1);
      await sleep(10);
    }
  })();
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  const start = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      pool.query(statements[mode]).then(() => {
        latencies.push(performance.now() - due);
        if (mode === 'after') notifier.notify('notify_commit_bench');
      }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  sampling = false;
  await sampling$;
  await sampler.end();
  await notifier.close();
  await pool.end();
  const perSample = Object.fromEntries(
    [...waits].sort((a, b) => b[1] - a[1]).map(([wait, count]) => [wait, round(count / samples, 2)]),
  );
  return {
    mode,
    commitsPerSecond: round(latencies.length / elapsed),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    samples,
    activeSessionsPerSample: perSample,
  };
}

async function main() {
  const database = `notify_commit_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  try {
    const setup = new pg.Client({ connectionString: databaseUrl });
    await setup.connect();
    await setup.query('create table t (id bigserial primary key, v int)');
    await setup.end();
    const { rows } = await admin
      .query<{ load: string }>("select pg_read_file('/proc/loadavg') as load")
      .catch(() => ({ rows: [] }));
    console.log(`clients ${clients}, ${rate} commits/s open loop, ${seconds} s per run; load ${rows[0]?.load.trim() ?? 'n/a'}`);
    for (let r = 0; r < rounds; r++)
      for (const mode of (r % 2 ? ['after', 'notify', 'plain'] : ['plain', 'notify', 'after']) as Mode[])
        console.log(JSON.stringify(await run(databaseUrl, mode)));
  } finally {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

await main();
