/**
 * Private PostgreSQL and Redis servers for tests that break, stop or replicate them: each on a free
 * loopback port, data under a temp dir, stopped (and removed) by whoever started them. They never
 * touch the shared servers on 5432 / 6379.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Which of `binaries` are missing from PATH (tests skip with this message, never silently). */
export async function missingBinaries(...binaries: string[]): Promise<string[]> {
  const found = await Promise.all(
    binaries.map((binary) =>
      run('which', [binary]).then(
        () => true,
        () => false,
      ),
    ),
  );
  return binaries.filter((_binary, index) => !found[index]);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/**
 * PostgreSQL refuses to run as root; the machines here run the tests as root, so the server
 * runs as the `postgres` system user (and owns its temp dir), as the packaged cluster does.
 */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid), gid: Number(gid) };
}

async function ownedTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const user = await serverUser();
  if (user) await chown(dir, user.uid, user.gid);
  return dir;
}

async function asServerUser(command: string, args: string[]): Promise<string> {
  const user = await serverUser();
  const { stdout } = await run(command, args, { ...user, env: { ...process.env, LC_ALL: 'C' } });
  return stdout;
}

export class PrivatePostgres {
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly root: string,
  ) {}

  /** A fresh cluster (initdb, trust auth on loopback), started and ready. */
  static async start(): Promise<PrivatePostgres> {
    const root = await ownedTempDir('pg-private-');
    const dataDir = join(root, 'data');
    await asServerUser('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    await asServerUser('sh', ['-c', `printf '%s\\n' "host replication postgres 127.0.0.1/32 trust" >> ${dataDir}/pg_hba.conf`]);
    const server = new PrivatePostgres(await freePort(), dataDir, root);
    await server.startServer();
    return server;
  }

  /**
   * A hot standby of `primary`: `pg_basebackup -R` (writes primary_conninfo and standby.signal),
   * streaming replication, read-only queries allowed.
   */
  static async standbyOf(primary: PrivatePostgres): Promise<PrivatePostgres> {
    const root = await ownedTempDir('pg-standby-');
    const dataDir = join(root, 'data');
    await asServerUser('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      dataDir,
      '-R',
      '-X',
      'stream',
      '--no-sync',
      // Without it the backup waits for a spread checkpoint: minutes on an idle server.
      '--checkpoint=fast',
    ]);
    const standby = new PrivatePostgres(await freePort(), dataDir, root);
    await standby.startServer();
    return standby;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts (or restarts) the server on its port and waits until it accepts connections. */
  async startServer(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-c listen_addresses=127.0.0.1`,
      `-c unix_socket_directories=${this.root}`,
      '-c fsync=off',
      '-c max_connections=200',
      '-c hot_standby=on',
      '-c wal_level=replica',
    ].join(' ');
    await asServerUser('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.root, 'server.log'),
      '-o',
      options,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /** `pg_ctl stop`: `immediate` is a crash (no checkpoint; recovery on the next start). */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await asServerUser('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async running(): Promise<boolean> {
    return asServerUser('pg_ctl', ['-D', this.dataDir, 'status']).then(
      () => true,
      () => false,
    );
  }

  async destroy(): Promise<void> {
    if (await this.running()) await this.stopServer('immediate').catch(() => undefined);
    await rm(this.root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// PgBouncer
// ---------------------------------------------------------------------------------------------

/**
 * PgBouncer in transaction mode in front of a PostgreSQL server, as `k8s/` runs one
 * (`k8s/base/platform/postgres/pooler.yaml`): each transaction on whichever of `serverSessions`
 * server sessions is free. Runs as the server user (PgBouncer refuses root too).
 */
export class PrivatePgBouncer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start({ target = 5432, serverSessions = 2 } = {}): Promise<PrivatePgBouncer> {
    const dir = await ownedTempDir('pgbouncer-');
    const port = await freePort();
    const ini = join(dir, 'pgbouncer.ini');
    await writeFile(
      ini,
      [
        '[databases]',
        `* = host=127.0.0.1 port=${target} user=postgres`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'auth_type = any',
        'pool_mode = transaction',
        `default_pool_size = ${serverSessions}`,
        'max_client_conn = 200',
        'unix_socket_dir =',
      ].join('\n'),
    );
    const user = await serverUser();
    const child = spawn('pgbouncer', [ini], { ...user, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('listening on')) resolve();
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', (code) => reject(new Error(`pgbouncer exited (${code}): ${output}`)));
    });
    await listening;
    return new PrivatePgBouncer(child, dir, port);
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

export interface RedisOptions {
  /** `noeviction` unless a test wants an evicting server. */
  maxmemoryPolicy?: string;
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[];
}

/** The one way tests start a redis-server: loopback only, no RDB snapshots; resolves once it accepts connections. */
async function spawnRedisServer(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--save', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('error', (error) => reject(new Error(`redis-server is needed here and could not start: ${error.message}`)));
    child.once('exit', () => reject(new Error(`redis-server (${args.join(' ')}) exited before it was ready: ${output}`)));
  });
  child.stderr!.resume();
  await ready;
  return child;
}

/** A throwaway redis-server on `port` with nothing persisted, for outage tests that stop and restart it. */
export function startRedis(port: number, extraArgs: string[] = []): Promise<ChildProcess> {
  return spawnRedisServer(['--port', String(port), '--appendonly', 'no', '--maxmemory-policy', 'noeviction', ...extraArgs]);
}

export async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** A redis-server with AOF on (`appendfsync everysec`, the production setting), on a free port. */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisOptions,
  ) {}

  static async start(options: RedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), await mkdtemp(join(tmpdir(), 'redis-private-')), options);
    await redis.startServer();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (again: it reloads its AOF) and resolves once it accepts connections. */
  async startServer(): Promise<void> {
    this.child = await spawnRedisServer([
      ...['--port', String(this.port), '--dir', this.dir],
      ...['--appendonly', 'yes', '--appendfsync', 'everysec'],
      ...['--maxmemory-policy', this.options.maxmemoryPolicy ?? 'noeviction'],
      ...(this.options.args ?? []),
    ]);
  }

  /** Kills the server process (SIGKILL: no shutdown, no final fsync) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Three masters, all slots assigned (`redis-cli --cluster create`), ready for clients. */
export class PrivateRedisCluster {
  private constructor(readonly nodes: PrivateRedis[]) {}

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const nodes: PrivateRedis[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(await PrivateRedis.start({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '5000'] }));
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      const cluster = new PrivateRedisCluster(nodes);
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((node) => node.destroy()));
      throw error;
    }
  }

  /** `redis://host:port,host:port,...` is not a standard URL; the service takes the first node and discovers the rest. */
  get url(): string {
    return this.nodes[0]!.url;
  }

  private async waitUntilOk(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(
        this.nodes.map((node) => run('redis-cli', ['-p', String(node.port), 'cluster', 'info']).then(({ stdout }) => stdout)),
      );
      if (states.every((state) => state.includes('cluster_state:ok'))) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster did not become ok: ${states.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.destroy()));
  }
}
