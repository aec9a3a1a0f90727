import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withDatabase } from '../../../src/platform/db/database-admin.js';
import { dropTestData, provisionDatabase, uniqueId } from '../../support/database.js';
import { AUDIENCE, ISSUER } from './environment.js';
import { freePort } from '../../support/ports.js';
import { spawnProcess, type BenchProcess } from './processes.js';

const run = promisify(execFile);

/** Spawn until ready: a few seconds on a quiet machine, over a minute when teammates load it (load average 15+). */
const READY_TIMEOUT_MS = 180_000;

/** What production refuses to start without, besides the key and URLs. */
export const PRODUCTION_BASICS = {
  NODE_ENV: 'production',
  // As the images set it (Dockerfile.api, Dockerfile.worker).
  MALLOC_ARENA_MAX: '2',
  PAYMENT_GATEWAY: 'fake',
  // Production requires a key for secrets at rest; any 32 bytes will do for a benchmark.
  SECRET_ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 1).toString('base64')}`,
};

export interface ServiceSettings {
  /** Root of a built checkout (this one, or the baseline's worktree). */
  dir: string;
  label: string;
  serverDatabaseUrl: string;
  redisUrl: string;
  publicKeyPem: string;
  otlpUrl: string;
  logDir: string;
  /** Extra Node flags for every process (heap limits), as the manifests set them. */
  nodeOptions: string;
  /** Writes a CPU profile per process and a heap snapshot at the end of the load into this folder. */
  profileDir?: string | undefined;
  env?: Record<string, string>;
}

export interface RunningService {
  label: string;
  url: string;
  databaseUrl: string;
  /** BullMQ key prefix of its queues. */
  prefix: string;
  api: BenchProcess;
  workers: BenchProcess[];
  /** Stops every process and reports each one's peak RSS; then drops the database and keys. */
  stop(): Promise<Array<{ name: string; peakRssMb: number; coldStartMs: number }>>;
}

/**
 * The service as production runs it: compiled, one API process and worker processes (one per
 * entry of `workerRoles`), NODE_ENV=production, RS256 tokens, info-level JSON logs, traces
 * exported over OTLP with the production sampler (10%, parent-based). Its own database
 * (migrated by the compiled migration entry) and its own queue prefix.
 */
export async function startService(settings: ServiceSettings, workerRoles: string[]): Promise<RunningService> {
  const id = uniqueId();
  const dbName = `bench_${settings.label.replace(/\W/g, '_')}_${id}`;
  const databaseUrl = await provisionDatabase(withDatabase(settings.serverDatabaseUrl, dbName));
  const prefix = `{bench-${id}}`;
  const base: Record<string, string> = {
    ...PRODUCTION_BASICS,
    DATABASE_URL: databaseUrl,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX: prefix,
    JWT_PUBLIC_KEY: settings.publicKeyPem,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    LOG_LEVEL: 'info',
    // The limiter stays on (one Redis call per request) but must not refuse the benchmark's load.
    RATE_LIMIT_POINTS: '100000000',
    RATE_LIMIT_ADDRESS_POINTS: '100000000',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: settings.otlpUrl,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.1',
    OTEL_SERVICE_NAME: 'cqrs-bench',
    NODE_OPTIONS: [
      settings.nodeOptions,
      settings.profileDir
        ? `--cpu-prof --cpu-prof-dir=${settings.profileDir} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${settings.profileDir}`
        : '',
    ]
      .filter(Boolean)
      .join(' '),
    ...settings.env,
  };
  await run(process.execPath, ['dist/src/platform/db/migrate.js'], { cwd: settings.dir, env: { ...process.env, ...base } });

  const register = '--import=./dist/src/platform/telemetry/register.js';
  // BENCH_NODE_FLAGS (run.ts): flags for the node command line, where V8's own flags must go (NODE_OPTIONS refuses most).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const apiPort = await freePort();
  const started: BenchProcess[] = [];
  const stopAll = async () => {
    const stats = [];
    for (const proc of started) stats.push({ name: proc.name, coldStartMs: proc.coldStartMs, ...(await proc.stop()) });
    await dropTestData(databaseUrl, settings.redisUrl, prefix);
    return stats.map(({ name, peakRssMb, coldStartMs }) => ({ name, peakRssMb, coldStartMs }));
  };
  // Every start settles before a failure is reported: stopping only those ready by then would
  // leave the slower ones running (and the harness waiting on them forever).
  const starts = [
    spawnProcess({
      name: `${settings.label} api`,
      cwd: settings.dir,
      args: [...nodeFlags, register, 'dist/src/api/server.js'],
      env: { ...base, PORT: String(apiPort) },
      readyUrl: `http://127.0.0.1:${apiPort}/health/ready`,
      logFile: join(settings.logDir, `${settings.label}-api.log`),
      snapshotDir: settings.profileDir,
      timeoutMs: READY_TIMEOUT_MS,
    }).then((proc) => (started.push(proc), proc)),
    ...workerRoles.map(async (roles, index) => {
      const port = await freePort();
      const proc = await spawnProcess({
        name: `${settings.label} worker ${roles}${workerRoles.indexOf(roles) === index ? '' : ` #${index}`}`,
        cwd: settings.dir,
        args: [...nodeFlags, register, 'dist/src/workers/main.js', '--role', roles],
        env: { ...base, WORKER_HTTP_PORT: String(port) },
        readyUrl: `http://127.0.0.1:${port}/health/ready`,
        logFile: join(settings.logDir, `${settings.label}-worker-${index}.log`),
        snapshotDir: settings.profileDir,
        timeoutMs: READY_TIMEOUT_MS,
      });
      started.push(proc);
      return proc;
    }),
  ];
  const outcomes = await Promise.allSettled(starts);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [api, ...workers] = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<BenchProcess>).value);
  return { label: settings.label, url: `http://127.0.0.1:${apiPort}`, databaseUrl, prefix, api: api!, workers, stop: stopAll };
}
