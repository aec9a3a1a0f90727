/**
 * CPU time the compiled API spends per `POST /v1/orders` (utime + stime of its process from
 * /proc/<pid>/stat around each load, divided by the requests answered), for two built checkouts
 * side by side in interleaved rounds: req/s on a shared 2-core machine moves 2x between identical
 * runs, CPU per request much less. Each side runs as the benchmark runs it (startService:
 * production settings, OTLP export, rate limiter on; no workers), 20 connections over 50
 * customers. `RAW=1` adds the raw handler (test/bench/raw, built by `tsc -p tsconfig.bench.json`)
 * on A's database; `PROFILE=1` writes a CPU profile per API into /tmp/cpu-per-post/.
 * `tsx test/bench/cpu-per-post.ts <built dir A> [<built dir B>] [rounds] [seconds]`
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { signingKeys, startOtlpSink, tokens, ISSUER, AUDIENCE } from './lib/environment.js';
import { startService, type RunningService } from './lib/service.js';
import { closedLoop } from './lib/load.js';
import { spawnProcess } from './lib/processes.js';
import { freePort } from '../support/ports.js';

const [dirA, dirB] = [resolve(process.argv[2]!), resolve(process.argv[3] ?? process.argv[2]!)];
const rounds = Number(process.argv[4] ?? 3);
const seconds = Number(process.argv[5] ?? 6);
const keys = signingKeys();
const otlp = await startOtlpSink();
const logDir = resolve('/tmp/cpu-per-post');
mkdirSync(logDir, { recursive: true });
const TENANT = 'bench';

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
}

async function start(dir: string, label: string): Promise<RunningService> {
  return startService(
    {
      dir,
      label,
      serverDatabaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      publicKeyPem: keys.publicKeyPem,
      otlpUrl: otlp.url,
      logDir,
      nodeOptions: '--max-old-space-size=128 --max-semi-space-size=8',
      env: process.env.PROFILE
        ? {
            NODE_OPTIONS: `--max-old-space-size=128 --max-semi-space-size=8 --cpu-prof --cpu-prof-dir=${join(logDir, `profile-${label}`)}`,
          }
        : {},
    },
    [],
  );
}

async function product(url: string): Promise<string> {
  const [admin] = tokens(keys.privateKey, TENANT, ['admin'], ['bench-admin']);
  const response = await fetch(`${url}/v1/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sku: `SKU-${Date.now()}`, name: 'Bench product', priceCents: 100, currency: 'EUR' }),
  });
  if (response.status !== 202) throw new Error(`product: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { productId: string }).productId;
}

const customers = tokens(
  keys.privateKey,
  TENANT,
  ['customer'],
  Array.from({ length: 50 }, (_, i) => `c${i}`),
);

interface Side {
  label: string;
  url: string;
  pid: number;
  body: string;
  results: Array<{ cpuMsPerReq: number; rps: number; total: number }>;
}

const services: RunningService[] = [];
const sides: Side[] = [];
let rawStop: (() => Promise<unknown>) | undefined;
try {
  for (const [dir, label] of [
    [dirA, 'A'],
    [dirB, 'B'],
  ] as const) {
    if (label === 'B' && dirB === dirA) break;
    const service = await start(dir, label);
    services.push(service);
    const productId = await product(service.url);
    sides.push({
      label,
      url: service.url,
      pid: service.api.pid,
      body: JSON.stringify({ lines: [{ productId, quantity: 1 }] }),
      results: [],
    });
  }
  if (process.env.RAW) {
    const port = await freePort();
    const proc = await spawnProcess({
      name: 'raw',
      cwd: dirA,
      args: ['dist/test/bench/raw/raw-api.js'],
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_URL: services[0]!.databaseUrl,
        JWT_PUBLIC_KEY: keys.publicKeyPem,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      },
      readyUrl: `http://127.0.0.1:${port}/health/ready`,
      logFile: join(logDir, 'raw.log'),
    });
    rawStop = () => proc.stop();
    sides.push({ label: 'raw', url: `http://127.0.0.1:${port}`, pid: proc.pid, body: sides[0]!.body, results: [] });
  }
  const load = (side: Side, secs: number) =>
    closedLoop({
      url: side.url,
      seconds: secs,
      connections: 20,
      body: side.body,
      targets: customers.map((token) => ({ token, path: '/v1/orders' })),
    });
  for (const side of sides) await load(side, 3); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      await new Promise((r) => setTimeout(r, 500));
      const before = cpuTicks(side.pid);
      const result = await load(side, seconds);
      const after = cpuTicks(side.pid);
      if (result.non2xx || result.errors) console.log(`  ${side.label}: ${result.non2xx} non-2xx ${result.errors} errors`);
      const cpuMsPerReq = ((after - before) * 10) / result.total;
      side.results.push({ cpuMsPerReq, rps: result.requestsPerSecond, total: result.total });
      console.log(
        `round ${round + 1} ${side.label}: ${cpuMsPerReq.toFixed(3)} ms CPU/POST, ${result.requestsPerSecond} req/s, p99 ${result.p99Ms} ms, load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  }
  for (const side of sides) {
    const cpu = side.results.map((r) => r.cpuMsPerReq).sort((a, b) => a - b);
    console.log(
      `${side.label}: CPU ms/POST median ${cpu[Math.floor(cpu.length / 2)]!.toFixed(3)} (${cpu.map((c) => c.toFixed(3)).join(', ')})`,
    );
  }
} finally {
  await rawStop?.();
  for (const service of services) await service.stop();
  await otlp.close();
}
