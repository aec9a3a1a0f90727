/**
 * Private PostgreSQL and Redis servers for one project checkout (`npm run quickstart`) or one test:
 * child processes of ours, on loopback only, data in a folder we name, stopped when we stop.
 * Needs the server binaries (Debian's postgresql + redis-server packages, Homebrew's, ...).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { probePostgres } from '../src/platform/db/database-admin.js';
import { isUnreachable } from '../src/platform/dependencies.js';
import { probeRedis } from '../src/platform/redis.js';

export interface PrivateServer {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server and waits until it has exited (the data stays for next time). */
  stop(): Promise<void>;
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** Where server binaries live when they are not on PATH (Debian keeps PostgreSQL's out of it). */
export function defaultSearchPath(path: string): string[] {
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => `/usr/lib/postgresql/${version}/bin`)
    : [];
  return [...path.split(delimiter).filter(Boolean), ...debian, '/opt/homebrew/bin', '/usr/local/bin'];
}

export function findPostgres(search: string[]): PostgresBinaries | undefined {
  const dir = search.find((candidate) => existsSync(join(candidate, 'initdb')) && existsSync(join(candidate, 'postgres')));
  return dir ? { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') } : undefined;
}

export function findRedisServer(search: string[]): string | undefined {
  return search.map((dir) => join(dir, 'redis-server')).find((candidate) => existsSync(candidate));
}

/** `preferred` when nothing listens there on loopback, else any free port. */
export async function choosePort(preferred: number): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const { port: bound } = server.address() as { port: number };
        server.close(() => resolve(bound));
      });
    });
  return (await listen(preferred)) ?? (await listen(0))!;
}

/**
 * PostgreSQL refuses to run as root; then it runs as the `postgres` user (Debian's package makes
 * one), which must own the data folder.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('PostgreSQL does not run as root and there is no `postgres` user to run it as');
  }
}

export async function startPrivatePostgres(options: {
  binaries: PostgresBinaries;
  dataDir: string;
  port: number;
  user?: string;
  database?: string;
}): Promise<PrivateServer> {
  const { binaries, dataDir, port, user = 'postgres', database = 'postgres' } = options;
  const runAs = serverUser();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dirname(dataDir), { recursive: true });
    mkdirSync(dataDir, { mode: 0o700 });
    if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
    const initdb = spawnSync(binaries.initdb, ['-D', dataDir, '-U', user, '-A', 'trust', '-E', 'UTF8', '--locale=C'], {
      encoding: 'utf8',
      ...runAs,
    });
    if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr || initdb.error?.message}`);
  }
  const log = openSync(`${dataDir}.log`, 'a');
  const child = spawn(
    binaries.postgres,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    // Its own process group: a Ctrl-C meant for the service must not stop the database under it.
    { stdio: ['ignore', log, log], detached: true, ...runAs },
  );
  const url = `postgres://${user}@127.0.0.1:${port}/${database}`;
  await untilAnswering(child, () => probePostgres(url), `${dataDir}.log`);
  // SIGINT is PostgreSQL's "fast" shutdown: sessions end, data is flushed.
  return { url, port, dataDir, stop: () => stopChild(child, 'SIGINT') };
}

export async function startPrivateRedis(options: { binary: string; dataDir: string; port: number }): Promise<PrivateServer> {
  const { binary, dataDir, port } = options;
  mkdirSync(dataDir, { recursive: true });
  const log = openSync(`${dataDir}.log`, 'a');
  // What BullMQ needs: noeviction, and AOF so queued jobs survive a restart.
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--protected-mode', 'yes'];
  args.push('--pidfile', join(dataDir, 'redis-server.pid'));
  args.push('--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction');
  const child = spawn(binary, args, { stdio: ['ignore', log, log], detached: true });
  const url = `redis://127.0.0.1:${port}`;
  await untilAnswering(child, () => probeRedis({ url }), `${dataDir}.log`);
  return { url, port, dataDir, stop: () => stopChild(child, 'SIGTERM') };
}

async function untilAnswering(child: ChildProcess, probe: () => Promise<unknown>, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited before it answered; its log (${logFile}) says:\n${tail(logFile)}`);
    }
    try {
      await probe();
      return;
    } catch (error) {
      if (!isUnreachable(error) || Date.now() > deadline) {
        await stopChild(child, 'SIGKILL');
        throw error;
      }
      await delay(100);
    }
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** For a caller that lost its handle (a test cleaning up after a failure): stop by pid file. */
export function stopByPidFile(dataDir: string): void {
  for (const file of ['postmaster.pid', 'redis-server.pid']) {
    const path = join(dataDir, file);
    if (!existsSync(path)) continue;
    const pid = Number(readFileSync(path, 'utf8').split('\n')[0]);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
}
