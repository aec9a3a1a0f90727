import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { probePostgres } from '../../src/platform/db/database-admin.js';
import { probeRedis } from '../../src/platform/redis.js';
import { stopByPidFile } from '../../scripts/private-servers.js';
import { runEntry } from '../support/processes.js';
import { freePort } from '../support/ports.js';
import { http } from '../support/http.js';

describe('npm run quickstart where PostgreSQL and Redis are not running', function () {
  this.timeout(300_000);
  let dataRoot: string;

  beforeEach(() => {
    dataRoot = mkdtempSync(join(tmpdir(), 'cqrs-quickstart-'));
    chmodSync(dataRoot, 0o755); // as root, PostgreSQL runs as `postgres`, which must reach its data folder
  });
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  it('When their servers are not installed, then it says how to get them and exits 1 without starting anything', async () => {
    const port = await freePort();
    const quickstart = runEntry('scripts/quickstart.ts', [], {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/cqrs_dev`,
      SERVER_BIN_PATH: join(dataRoot, 'no-binaries-here'),
      PRIVATE_SERVERS_DIR: dataRoot,
    });

    expect(await quickstart.exited()).to.equal(1);
    const said = quickstart.lines.join('\n');
    expect(said).to.include(`PostgreSQL is not running at postgres://postgres@127.0.0.1:${port}/cqrs_dev`);
    expect(said).to.include('apt-get install postgresql').and.include('docker compose up -d postgres redis');
    expect(said).not.to.match(/^\s+at /m);
    expect(existsSync(join(dataRoot, 'postgresql'))).to.equal(false);
  });

  it('When their servers are installed, then it starts private ones (loopback, noeviction + AOF), runs the checks and the service on them, and stops them when it stops', async () => {
    const [pgPort, redisPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/cqrs_dev`;
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const quickstart = runEntry(
      'scripts/quickstart.ts',
      [],
      {
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        PORT: String(apiPort),
        WORKER_HTTP_PORT: '0',
        PRIVATE_SERVERS_DIR: dataRoot,
      },
      { group: true },
    );
    try {
      await quickstart.waitFor(/Products:/, 240_000); // the demo banner: migrated, seeded, serving

      expect(quickstart.lines).to.include.members([
        `quickstart: PostgreSQL was not running: started a private one on 127.0.0.1:${pgPort} (data in ${dataRoot}/postgresql; it stops when quickstart stops)`,
        `quickstart: Redis was not running: started a private one on 127.0.0.1:${redisPort} (data in ${dataRoot}/redis; it stops when quickstart stops)`,
      ]);
      expect(quickstart.lines.some((line) => /^OK\s+Redis maxmemory-policy\s+noeviction$/.test(line))).to.equal(true);
      expect((await http(`http://127.0.0.1:${apiPort}/health/ready`)).status).to.equal(200);

      const redis = new Redis(redisUrl);
      const settings = Object.fromEntries(
        ['maxmemory-policy', 'appendonly', 'bind'].map((key) => [key, undefined as string | undefined]),
      );
      for (const key of Object.keys(settings)) settings[key] = ((await redis.config('GET', key)) as string[])[1];
      redis.disconnect();
      expect(settings).to.deep.equal({ 'maxmemory-policy': 'noeviction', appendonly: 'yes', bind: '127.0.0.1' });

      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      const listen = await db.query<{ listen_addresses: string }>('show listen_addresses');
      const products = await db.query<{ count: string }>('select count(*) from products');
      await db.end();
      expect(listen.rows[0]!.listen_addresses).to.equal('127.0.0.1');
      expect(Number(products.rows[0]!.count), 'the demo tenant was seeded into the private server').to.be.greaterThan(0);
      expect(existsSync(join(dataRoot, 'postgresql', 'PG_VERSION'))).to.equal(true);

      quickstart.signalGroup('SIGINT'); // Ctrl-C
      await quickstart.exited();

      expect(quickstart.lines).to.include('quickstart: stopping the private servers it started');
      const postgresAfter = await probePostgres(databaseUrl).then(
        () => 'answering',
        () => 'stopped',
      );
      const redisAfter = await probeRedis({ url: redisUrl }).then(
        () => 'answering',
        () => 'stopped',
      );
      expect({ postgresAfter, redisAfter }).to.deep.equal({ postgresAfter: 'stopped', redisAfter: 'stopped' });
    } finally {
      if (quickstart.child.exitCode === null && quickstart.child.signalCode === null) {
        // A failure before the Ctrl-C: nothing may outlive the test.
        quickstart.signalGroup('SIGKILL');
        for (const server of ['postgresql', 'redis']) stopByPidFile(join(dataRoot, server));
      }
    }
  });
});
