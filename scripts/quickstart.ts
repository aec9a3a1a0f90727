/**
 * `npm run quickstart` (after `npm ci`): make sure PostgreSQL and Redis answer, check the machine
 * (`npm run doctor`), then run `npm run dev`. Where a server is installed but not running, a
 * private one is started for this checkout (loopback only, data under PRIVATE_SERVERS_DIR) and
 * stopped when quickstart stops; where it is not installed, this says how to get it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { renderReport, runDoctor } from '../src/ops/doctor-checks.js';
import { loadConfigOrExit } from '../src/platform/config.js';
import { probePostgres } from '../src/platform/db/database-admin.js';
import { COMPOSE_WAY_OUT, DependencyError, redactUrl, type Dependency } from '../src/platform/dependencies.js';
import { probeRedis } from '../src/platform/redis.js';
import {
  choosePort,
  defaultSearchPath,
  findPostgres,
  findRedisServer,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivateServer,
} from './private-servers.js';

const say = (line: string) => process.stdout.write(`quickstart: ${line}\n`);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const INSTALL: Record<Dependency, string> = {
  PostgreSQL: '`sudo apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql@16` (macOS)',
  Redis: '`sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)',
};

class QuickstartStop extends Error {}

const config = loadConfigOrExit();
const started: PrivateServer[] = [];
const stopServers = async () => {
  await Promise.allSettled(started.splice(0).map((server) => server.stop()));
};

try {
  const databaseUrl = await ensureRunning('PostgreSQL', config.DATABASE_URL, (url) => probePostgres(url), startPostgres);
  const redisUrl = await ensureRunning('Redis', config.REDIS_URL, (url) => probeRedis({ url }), startRedis);
  const report = await runDoctor({ ...config, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });
  process.stdout.write(renderReport(report));
  if (!report.ok) throw new QuickstartStop('the checks above failed');
  process.exitCode = await runDev({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });
} catch (error) {
  if (!(error instanceof QuickstartStop || error instanceof DependencyError)) throw error;
  say(error.message);
  process.exitCode = 1;
} finally {
  if (started.length) say('stopping the private servers it started');
  await stopServers();
}

/** The URL to use: the configured one when it answers, else a private server's. */
async function ensureRunning(
  dependency: Dependency,
  url: string,
  probe: (url: string) => Promise<unknown>,
  start: (url: URL, dataDir: string) => Promise<PrivateServer | undefined>,
): Promise<string> {
  const answer = await probe(url).then(
    () => undefined,
    (error: DependencyError) => error,
  );
  if (!answer) return url;
  if (!answer.unreachable || !LOOPBACK.has(new URL(url).hostname)) throw answer;
  const dataDir = resolve(config.PRIVATE_SERVERS_DIR, dependency.toLowerCase());
  const server = await start(new URL(url), dataDir).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new QuickstartStop(`${dependency} is not running and a private one could not start: ${reason}`);
  });
  if (!server) {
    throw new QuickstartStop(
      `${dependency} is not running at ${redactUrl(url)} and its server is not installed here. ` +
        `Get it with ${INSTALL[dependency]} and run quickstart again, or run ${COMPOSE_WAY_OUT}.`,
    );
  }
  started.push(server);
  say(
    `${dependency} was not running: started a private one on 127.0.0.1:${server.port} ` +
      `(data in ${server.dataDir}; it stops when quickstart stops)`,
  );
  return server.url;
}

function searchPath(): string[] {
  return config.SERVER_BIN_PATH !== undefined
    ? config.SERVER_BIN_PATH.split(':').filter(Boolean)
    : defaultSearchPath(config.PATH);
}

async function startPostgres(url: URL, dataDir: string): Promise<PrivateServer | undefined> {
  const binaries = findPostgres(searchPath());
  if (!binaries) return undefined;
  const port = await choosePort(Number(url.port || 5432));
  const user = decodeURIComponent(url.username) || 'postgres';
  return startPrivatePostgres({ binaries, dataDir, port, user, database: decodeURIComponent(url.pathname.slice(1)) });
}

async function startRedis(url: URL, dataDir: string): Promise<PrivateServer | undefined> {
  const binary = findRedisServer(searchPath());
  if (!binary) return undefined;
  return startPrivateRedis({ binary, dataDir, port: await choosePort(Number(url.port || 6379)) });
}

/** `npm run dev` on these servers until it ends or we are told to stop (Ctrl-C, SIGTERM). */
async function runDev(urls: { DATABASE_URL: string; REDIS_URL: string }): Promise<number> {
  const dev = spawn('npm', ['run', 'dev'], { stdio: 'inherit', env: { ...process.env, ...urls } });
  const forward = (signal: NodeJS.Signals) => dev.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  const [code] = (await once(dev, 'exit')) as [number | null];
  process.off('SIGINT', forward).off('SIGTERM', forward);
  return code ?? 0;
}
