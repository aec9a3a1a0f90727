import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { withDatabase } from '../../../src/platform/db/database-admin.js';
import { provisionDatabase } from '../../support/database.js';
import { tokens } from './environment.js';
import type { ClosedLoopResult } from './load.js';
import { freePort } from '../../support/ports.js';
import { spawnProcess, type BenchProcess } from './processes.js';
import { PRODUCTION_BASICS, startService, type RunningService } from './service.js';

const run = promisify(execFile);

/** Knobs, all from environment variables so a shorter run is one variable away. */
export interface BenchSettings {
  seconds: number;
  warmupSeconds: number;
  pairs: number;
  connections: number;
  /** Orders per second of the open-loop freshness load. */
  rate: number;
  /** Worker processes of the freshness runs, one entry per process (roles comma-separated). */
  freshnessRoles: string[];
  pipelineSeconds: number;
  /** Orders sent and settled before each pipeline and scale-out run starts counting. */
  pipelineWarmupSeconds: number;
  /** Seconds of orders whose events wait in the paused projections queue in a drain run. */
  drainLoadSeconds: number;
  /** Git ref of the pipeline comparison, or `skip`. */
  baseline: string;
  scenarios: string[];
  /** NODE_OPTIONS of the service's processes (the manifests' heap flags). */
  nodeOptions: string;
  /** NODE_OPTIONS of the baseline commit's processes. */
  baselineNodeOptions: string;
  /** CPU profiles and heap snapshots of every service process (slows the run; figures are then not comparable). */
  profile: boolean;
}

export interface BenchContext {
  settings: BenchSettings;
  projectDir: string;
  baselineDir: string | undefined;
  serverDatabaseUrl: string;
  redisUrl: string;
  publicKeyPem: string;
  privateKey: KeyObject;
  otlpUrl: string;
  logDir: string;
  progress(line: string): void;
  /** Marks the whole run invalid (non-zero exit) and says why. */
  invalid(reason: string): void;
}

export const TENANT = 'bench';

export function customerTokens(context: BenchContext, count: number, tag = 'c'): string[] {
  return tokens(
    context.privateKey,
    TENANT,
    ['customer'],
    Array.from({ length: count }, (_, i) => `${tag}${i}`),
  );
}

/** Starts this checkout (or the baseline's) as production runs it. */
export function startProject(context: BenchContext, label: string, workerRoles: string[], dir = context.projectDir) {
  return startService(
    {
      dir,
      label,
      serverDatabaseUrl: context.serverDatabaseUrl,
      redisUrl: context.redisUrl,
      publicKeyPem: context.publicKeyPem,
      otlpUrl: context.otlpUrl,
      logDir: context.logDir,
      nodeOptions: dir === context.projectDir ? context.settings.nodeOptions : context.settings.baselineNodeOptions,
      profileDir: context.settings.profile ? join(context.logDir, 'profiles') : undefined,
      // BENCH_SERVICE_ENV (run.ts): a setting tried on the service without a rebuild.
      env: process.env.BENCH_SERVICE_ENV ? (JSON.parse(process.env.BENCH_SERVICE_ENV) as Record<string, string>) : undefined,
    },
    workerRoles,
  );
}

/** A catalogue product, created through the real command path as an admin. */
export async function createProduct(context: BenchContext, service: RunningService): Promise<string> {
  const [admin] = tokens(context.privateKey, TENANT, ['admin'], ['bench-admin']);
  const response = await fetch(`${service.url}/v1/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sku: `SKU-${Date.now()}`, name: 'Bench product', priceCents: 100, currency: 'EUR' }),
  });
  if (response.status !== 202) throw new Error(`creating the product answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { productId: string }).productId;
}

export function orderBody(productId: string): string {
  return JSON.stringify({ lines: [{ productId, quantity: 1 }] });
}

/** Starts a compiled raw baseline entry (see test/bench/raw/) and waits for its readiness. */
export async function startRaw(
  context: BenchContext,
  name: string,
  entry: string,
  env: Record<string, string>,
): Promise<{ proc: BenchProcess; port: number }> {
  const port = await freePort();
  const proc = await spawnProcess({
    name,
    cwd: context.projectDir,
    args: [`dist/test/bench/raw/${entry}.js`],
    env: { NODE_ENV: 'production', PORT: String(port), ...env },
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
    logFile: join(context.logDir, `${name.replace(/\W+/g, '-')}.log`),
  });
  return { proc, port };
}

/** A run answered with anything but 2xx, errored or timed out: the figures would lie. */
export function checkClean(context: BenchContext, what: string, result: ClosedLoopResult): ClosedLoopResult {
  if (result.non2xx || result.errors || result.timeouts) {
    context.invalid(`${what}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return result;
}

export async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a dropped database ends the session; the query itself fails
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A database of the raw baselines' own, with the service's schema (its compiled migrations). */
export async function rawDatabase(context: BenchContext, name: string): Promise<string> {
  const databaseUrl = await provisionDatabase(withDatabase(context.serverDatabaseUrl, name));
  await run(process.execPath, ['dist/src/platform/db/migrate.js'], {
    cwd: context.projectDir,
    env: { ...process.env, ...PRODUCTION_BASICS, DATABASE_URL: databaseUrl, JWT_PUBLIC_KEY: context.publicKeyPem },
  });
  return databaseUrl;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
