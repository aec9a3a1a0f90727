import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { redisTarget, type Config } from '../platform/config.js';
import { probePostgres, type PostgresFacts } from '../platform/db/database-admin.js';
import { connectOrm, pendingMigrations } from '../platform/db/orm.js';
import { DependencyError, redactUrl, waysOut, type Dependency } from '../platform/dependencies.js';
import { describeRedis, probeRedis, type RedisFacts } from '../platform/redis.js';

/**
 * What `npm run doctor` checks: whether this machine can run the service, each answer with what
 * to do about it. `fail` means the service cannot run; `warn` means it runs, with a caveat.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, when the status is not `ok`. */
  fix?: string;
}

export interface DoctorReport {
  /** True when nothing failed: the service can run. */
  ok: boolean;
  checks: CheckResult[];
}

/** Keep in step with `engines.node` in package.json (a unit test holds them together). */
export const MINIMUM_NODE = '24.11.0';

export async function runDoctor(config: Config): Promise<DoctorReport> {
  const target = redisTarget(config);
  const postgres = await probePostgres(config.DATABASE_URL).catch((error: DependencyError) => error);
  const redis = await probeRedis(target).catch((error: DependencyError) => error);
  const checks = [
    nodeVersion(process.versions.node),
    reachable('PostgreSQL', config.DATABASE_URL, postgres, (facts) => `PostgreSQL ${facts.version}`),
    await devDatabase(config, postgres),
    reachable('Redis', describeRedis(target), redis, (facts) =>
      facts.clusterNodes ? `Redis Cluster (${facts.clusterNodes} nodes, ${facts.version})` : `Redis ${facts.version}`,
    ),
    evictionPolicy(config, redis),
    await portFree('API port (PORT)', config.PORT, 'fail'),
    await portFree('worker health port (WORKER_HTTP_PORT)', config.WORKER_HTTP_PORT, 'warn'),
    chromium(config.CHROMIUM_PATH),
  ];
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

export function nodeVersion(version: string): CheckResult {
  const name = 'Node.js';
  if (compareVersions(version, MINIMUM_NODE) >= 0) return { name, status: 'ok', detail: `${version} (needs >= ${MINIMUM_NODE})` };
  return {
    name,
    status: 'fail',
    detail: `${version} is older than ${MINIMUM_NODE}`,
    fix: 'run it through npm scripts (the `node` devDependency brings Node 24 after `npm ci`), or install Node 24 LTS',
  };
}

function reachable<T>(name: Dependency, url: string, outcome: T | DependencyError, describe: (facts: T) => string): CheckResult {
  if (!(outcome instanceof DependencyError)) return { name, status: 'ok', detail: `${describe(outcome)} at ${redactUrl(url)}` };
  if (!outcome.unreachable) {
    return {
      name,
      status: 'fail',
      detail: `${redactUrl(url)} refused us: ${outcome.reason}`,
      fix: 'check the URL and its credentials',
    };
  }
  return { name, status: 'fail', detail: `not reachable at ${redactUrl(url)} (${outcome.reason})`, fix: waysOut(name) };
}

async function devDatabase(config: Config, postgres: PostgresFacts | DependencyError): Promise<CheckResult> {
  const name = 'database + migrations';
  const database = new URL(config.DATABASE_URL).pathname.slice(1);
  if (postgres instanceof DependencyError) return { name, status: 'skip', detail: 'needs PostgreSQL' };
  const migrateIt = '`npm run migrate` (`npm run dev` and `npm run quickstart` do it themselves)';
  if (!postgres.databaseExists) return { name, status: 'warn', detail: `${database} does not exist yet`, fix: migrateIt };
  const orm = await connectOrm({ databaseUrl: config.DATABASE_URL, poolMax: 1, entities: [] });
  try {
    const pending = await pendingMigrations(orm);
    if (pending.length === 0) return { name, status: 'ok', detail: `${database}: every migration applied` };
    return {
      name,
      status: 'warn',
      detail: `${database}: ${pending.length} migration(s) pending (${pending.join(', ')})`,
      fix: migrateIt,
    };
  } finally {
    await orm.close(true);
  }
}

function evictionPolicy(config: Config, redis: RedisFacts | DependencyError): CheckResult {
  const name = 'Redis maxmemory-policy';
  if (redis instanceof DependencyError) return { name, status: 'skip', detail: 'needs Redis' };
  const policy = redis.maxmemoryPolicy;
  if (policy === 'noeviction') return { name, status: 'ok', detail: 'noeviction' };
  if (policy === undefined) {
    return {
      name,
      status: 'warn',
      detail: 'CONFIG GET refused (managed Redis?)',
      fix: 'make sure the server runs with noeviction',
    };
  }
  return {
    name,
    status: config.REDIS_EVICTION_POLICY_CHECK === 'refuse' ? 'fail' : 'warn',
    detail: `"${policy}": BullMQ can lose jobs when Redis evicts keys`,
    fix: '`redis-cli config set maxmemory-policy noeviction` (and in redis.conf), or REDIS_EVICTION_POLICY_CHECK=warn',
  };
}

/** Listens the way the service does (every interface), then lets go. */
async function portFree(name: string, port: number, whenTaken: 'fail' | 'warn'): Promise<CheckResult> {
  if (port === 0) return { name, status: 'ok', detail: '0 (any free port)' };
  const taken = await new Promise<string | undefined>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, () => server.close(() => resolve(undefined)));
  });
  if (!taken) return { name, status: 'ok', detail: `${port} is free` };
  return {
    name,
    status: whenTaken,
    detail: `${port} is taken (${taken})`,
    fix: `stop what listens there (\`ss -ltnp 'sport = :${port}'\` shows it; another \`npm run dev\`?) or choose another port`,
  };
}

function chromium(path: string): CheckResult {
  const name = 'Chromium (optional)';
  if (existsSync(path)) return { name, status: 'ok', detail: path };
  return {
    name,
    status: 'warn',
    detail: `not at ${path}; only the operator dashboard's browser test needs it`,
    fix: '`apt-get install chromium` (or set CHROMIUM_PATH)',
  };
}

/** One line per check, what to do after an arrow, then the verdict. */
export function renderReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = report.checks.map((check) => line(check, width));
  const verdict = report.ok
    ? 'The service can run: `npm run dev` (API and workers) or `npm run quickstart`.'
    : 'The service cannot run yet: fix the FAIL lines above, then run `npm run doctor` again.';
  return `${lines.join('\n')}\n${verdict}\n`;
}

function line(check: CheckResult, width: number): string {
  const fix = check.fix ? ` -> ${check.fix}` : '';
  return `${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}${fix}`;
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((version) => version.split('.').map(Number));
  for (let i = 0; i < 3; i += 1) {
    const difference = (x![i] ?? 0) - (y![i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
