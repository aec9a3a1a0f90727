/**
 * CPU time the API process spends per request, endpoint by endpoint: a figure that does not move
 * with the machine's load the way req/s does. Starts each build as production runs it (the bench's
 * `startService`: compiled, NODE_ENV=production, RS256, info logs, OTLP with the 10% sampler, the
 * manifests' heap flags), seeds one read model (20 customers x 21 orders) and copies it to every
 * other build, then runs the loads interleaved (A B, B A, ...) and reads utime + stime of each API
 * from /proc/<pid>/stat before and after each load.
 *
 *   npm run build && tsc -p tsconfig.bench.json
 *   tsx test/bench/cpu-per-request.ts [dir ...]   (default: this checkout; `raw` = the raw API)
 *
 * Environment: CPU_SECONDS [6] per load, CPU_ROUNDS [3], CPU_CONNECTIONS [20], CPU_ENDPOINTS
 * [read,list] (also `post`), CPU_PROFILE [unset] (a folder: --cpu-prof of each API), DATABASE_URL,
 * REDIS_URL. A dir is a built checkout (dist/, package.json, node_modules).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dropDatabase, withDatabase } from '../../src/platform/db/database-admin.js';
import { uniqueId } from '../support/database.js';
import { createProduct, customerTokens, orderBody, rawDatabase, startRaw, withClient, type BenchContext } from './lib/context.js';
import { AUDIENCE, ISSUER, signingKeys, startOtlpSink } from './lib/environment.js';
import autocannon from 'autocannon';
import { startService, type RunningService } from './lib/service.js';
import { seedOrders, waitForReadModel } from './scenarios/api.js';

const env = process.env;
const seconds = Number(env.CPU_SECONDS ?? 6);
const rounds = Number(env.CPU_ROUNDS ?? 3);
const connections = Number(env.CPU_CONNECTIONS ?? 20);
// A fixed rate makes builds comparable on a loaded machine: each then serves the same requests per
// event-loop turn. Unset: a closed loop (as fast as each answers).
const rate = env.CPU_RATE ? Number(env.CPU_RATE) : undefined;
const endpoints = (env.CPU_ENDPOINTS ?? 'read,list').split(',');
const profileDir = env.CPU_PROFILE ? resolve(env.CPU_PROFILE) : undefined;
const dirs = process.argv.slice(2).length ? process.argv.slice(2) : [process.cwd()];
const logDir = join(tmpdir(), `cpu-per-request-${uniqueId()}`);
mkdirSync(logDir, { recursive: true });
if (profileDir) mkdirSync(profileDir, { recursive: true });

const keys = signingKeys();
const otlp = await startOtlpSink();
const serverDatabaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const context = {
  settings: { nodeOptions: '--max-old-space-size=128 --max-semi-space-size=8', profile: false },
  projectDir: process.cwd(),
  serverDatabaseUrl,
  redisUrl,
  publicKeyPem: keys.publicKeyPem,
  privateKey: keys.privateKey,
  otlpUrl: otlp.url,
  logDir,
  progress: (line: string) => console.log(line),
  invalid: (reason: string) => console.log(`INVALID ${reason}`),
} as unknown as BenchContext;

const clockTicks = 100; // USER_HZ on Linux
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

function settingsFor(dir: string, label: string, extra: Record<string, string> = {}) {
  return {
    dir,
    label,
    serverDatabaseUrl,
    redisUrl,
    publicKeyPem: keys.publicKeyPem,
    otlpUrl: otlp.url,
    logDir,
    nodeOptions: context.settings.nodeOptions,
    profileDir: undefined,
    env: {
      ...(profileDir ? { NODE_OPTIONS: `${context.settings.nodeOptions} --cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
      ...extra,
    },
  };
}

interface Target {
  label: string;
  url: string;
  pid: number;
  stop(): Promise<unknown>;
}

const targets: Target[] = [];
const rawDbs: string[] = [];
let seed: RunningService | undefined;
const cleanUp = async () => {
  for (const target of targets) {
    const status = (() => {
      try {
        return readFileSync(`/proc/${target.pid}/status`, 'utf8');
      } catch {
        return '';
      }
    })();
    const mb = (field: string) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024);
    console.log(`== memory ${target.label}: RSS ${mb('VmRSS')} MB, peak ${mb('VmHWM')} MB`);
  }
  for (const target of targets.splice(0)) await target.stop();
  await seed?.stop();
  seed = undefined;
  for (const db of rawDbs.splice(0)) await dropDatabase(withDatabase(serverDatabaseUrl, db));
  await otlp.close();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
try {
  // The first build seeds through its real API and worker; the others get a copy of the tables.
  const seedDir = dirs.map((dir) => dir.split('@')[0]!).find((dir) => dir !== 'raw') ?? process.cwd();
  seed = await startService(settingsFor(resolve(seedDir), 'seed'), ['all']);
  const productId = await createProduct(context, seed);
  const seeded = customerTokens(context, 20);
  await seedOrders(seed.url, seeded, productId);
  await waitForReadModel(seed.databaseUrl, 20 * 21);
  await seed.workers[0]!.stop();
  console.log(
    `seeded 420 orders (load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );

  for (const [index, spec] of dirs.entries()) {
    // `dir@KEY=value,KEY=value` runs a build with extra environment variables (an ablation).
    const [dir, variables] = spec.split('@') as [string, string | undefined];
    const extra = Object.fromEntries(
      (variables ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=')),
    );
    const label = `${index}-${dir === 'raw' ? 'raw' : dir.split('/').filter(Boolean).at(-1)}${variables ? `@${variables}` : ''}`;
    if (dir === 'raw') {
      const rawDb = `bench_raw_${uniqueId()}`;
      rawDbs.push(rawDb);
      const rawUrl = await rawDatabase(context, rawDb);
      await copyTables(seed.databaseUrl, rawUrl, ['products', 'customers', 'order_view']);
      const raw = await startRaw(context, 'raw api', 'raw-api', {
        DATABASE_URL: rawUrl,
        JWT_PUBLIC_KEY: keys.publicKeyPem,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      });
      targets.push({ label, url: `http://127.0.0.1:${raw.port}`, pid: raw.proc.pid, stop: () => raw.proc.stop() });
      continue;
    }
    const service = await startService(settingsFor(resolve(dir), `cpu${index}`, extra), []);
    await copyTables(seed.databaseUrl, service.databaseUrl, ['products', 'customers', 'order_view']);
    targets.push({ label, url: service.url, pid: service.api.pid, stop: () => service.stop() });
  }

  const firstOrders = await withClient(seed.databaseUrl, async (client) => {
    const { rows } = await client.query<{ customer_id: string; id: string }>(
      'select distinct on (customer_id) customer_id, id from order_view order by customer_id, placed_at',
    );
    return new Map(rows.map((row) => [row.customer_id, row.id]));
  });
  const loads: Record<string, { body?: string; targets: Array<{ token: string; path: string }> }> = {
    read: { targets: seeded.map((token, i) => ({ token, path: `/v1/orders/${firstOrders.get(`c${i}`)}` })) },
    list: { targets: seeded.map((token) => ({ token, path: '/v1/orders?limit=20' })) },
    post: {
      body: orderBody(productId),
      targets: customerTokens(context, 50, 'p').map((token) => ({ token, path: '/v1/orders' })),
    },
  };

  for (const endpoint of endpoints) {
    const load = loads[endpoint]!;
    const run = (target: Target, duration: number) => drive(target.url, duration, load);
    for (const target of targets) await run(target, 2);
    const figures = new Map<string, number[]>(targets.map((target) => [target.label, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const before = cpuMs(target.pid);
        const result = await run(target, seconds);
        const spent = cpuMs(target.pid) - before;
        const bad = result.non2xx + result.errors + result.timeouts;
        const perRequest = spent / result.total;
        figures.get(target.label)!.push(perRequest);
        console.log(
          `${endpoint} ${target.label}: ${perRequest.toFixed(3)} ms CPU/request, ${result.requestsPerSecond} req/s` +
            `${bad ? ` (${bad} bad)` : ''}, load ${loadavg()[0]!.toFixed(1)}`,
        );
      }
    }
    for (const [label, values] of figures) {
      const sorted = [...values].sort((a, b) => a - b);
      console.log(
        `== ${endpoint} ${label}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} ms CPU/request ` +
          `(${sorted.map((v) => v.toFixed(3)).join(', ')})`,
      );
    }
  }
  if (env.CPU_HOLD_SECONDS) {
    console.log(`holding: ${targets.map((target) => `${target.label} pid ${target.pid}`).join(', ')}`);
    await new Promise((done) => setTimeout(done, Number(env.CPU_HOLD_SECONDS) * 1000));
  }
} finally {
  await cleanUp();
}

async function drive(url: string, duration: number, load: { body?: string; targets: Array<{ token: string; path: string }> }) {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: load.body ? 'POST' : 'GET',
        setupRequest: (request) => {
          const target = load.targets[next++ % load.targets.length]!;
          return {
            ...request,
            path: target.path,
            ...(load.body ? { body: load.body } : {}),
            headers: {
              ...(load.body ? { 'content-type': 'application/json' } : {}),
              authorization: `Bearer ${target.token}`,
            },
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

async function copyTables(fromUrl: string, toUrl: string, tables: string[]): Promise<void> {
  await withClient(fromUrl, (from) =>
    withClient(toUrl, async (to) => {
      for (const table of tables) {
        const { rows } = await from.query<{ data: unknown }>(`select coalesce(json_agg(t), '[]') as data from ${table} t`);
        await to.query(`insert into ${table} select * from json_populate_recordset(null::${table}, $1::json)`, [
          JSON.stringify(rows[0]!.data),
        ]);
      }
    }),
  );
}
