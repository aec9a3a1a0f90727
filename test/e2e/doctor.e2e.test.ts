import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { runDoctor, type DoctorReport } from '../../src/ops/doctor-checks.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { withDatabase } from '../../src/platform/db/database-admin.js';
import { runEntry } from '../support/processes.js';
import { freePort } from '../support/ports.js';
import { startRedis, stopRedis } from '../support/private-servers.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

const statusOf = (report: DoctorReport, name: string) => report.checks.find((check) => check.name === name)?.status;

describe('npm run doctor', function () {
  this.timeout(60_000);
  let environment: TestEnvironment;
  let config: Config;

  before(async () => {
    environment = await createTestEnvironment({}, { migrate: true });
    config = loadConfig({
      DATABASE_URL: environment.config.DATABASE_URL,
      REDIS_URL: environment.config.REDIS_URL,
      PORT: String(await freePort()),
      WORKER_HTTP_PORT: String(await freePort()),
    });
  });
  after(() => environment.destroy());

  it('When PostgreSQL and Redis answer and the database is migrated, then every check is ok with versions, and the report is ok', async () => {
    const report = await runDoctor(config);

    expect(report.ok).to.equal(true);
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(byName['Node.js']).to.include({ status: 'ok' });
    expect(byName['PostgreSQL']!.detail).to.match(/^PostgreSQL \d+\.\d+/);
    expect(byName['database + migrations']).to.include({ status: 'ok' });
    expect(byName['Redis']!.detail).to.match(/^Redis \d+\.\d+\.\d+/);
    expect(byName['Redis maxmemory-policy']).to.include({ status: 'ok', detail: 'noeviction' });
    expect(statusOf(report, 'API port (PORT)')).to.equal('ok');
  });

  it('When the database does not exist yet, then that is a warning saying how to create it (the service can still run)', async () => {
    const report = await runDoctor({
      ...config,
      DATABASE_URL: withDatabase(config.DATABASE_URL, `${new URL(config.DATABASE_URL).pathname.slice(1)}_absent`),
    });

    const database = report.checks.find((check) => check.name === 'database + migrations')!;
    expect(database.status).to.equal('warn');
    expect(database.detail).to.match(/does not exist yet/);
    expect(database.fix).to.include('npm run migrate');
    expect(report.ok).to.equal(true);
  });

  it('When the API port is taken, then that check fails, naming the port', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(config.PORT, resolve));
    try {
      const report = await runDoctor(config);

      const port = report.checks.find((check) => check.name === 'API port (PORT)')!;
      expect(port).to.include({ status: 'fail' });
      expect(port.detail).to.include(`${config.PORT} is taken`);
      expect(report.ok).to.equal(false);
    } finally {
      blocker.close();
    }
  });

  it('When Redis may evict keys, then the policy check fails in refuse mode and only warns in warn mode', async () => {
    const port = await freePort();
    const redis: ChildProcess = await startRedis(port);
    try {
      const admin = new Redis(`redis://127.0.0.1:${port}`);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      const evicting = { ...config, REDIS_URL: `redis://127.0.0.1:${port}` };

      const refused = await runDoctor(evicting);
      const warned = await runDoctor({ ...evicting, REDIS_EVICTION_POLICY_CHECK: 'warn' });

      expect(statusOf(refused, 'Redis maxmemory-policy')).to.equal('fail');
      expect(refused.ok).to.equal(false);
      expect(statusOf(warned, 'Redis maxmemory-policy')).to.equal('warn');
      expect(warned.ok).to.equal(true);
    } finally {
      await stopRedis(redis);
    }
  });

  it('When PostgreSQL and Redis are unreachable, then `npm run doctor` exits 1 with one line per check, each failure saying what to do; --json says the same', async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const env = {
      DATABASE_URL: `postgres://postgres@${nowhere}/cqrs_dev`,
      REDIS_URL: `redis://${nowhere}`,
      PORT: String(config.PORT),
      WORKER_HTTP_PORT: String(config.WORKER_HTTP_PORT),
    };
    const human = runEntry('src/ops/doctor.ts', [], env);
    const json = runEntry('src/ops/doctor.ts', ['--json'], env);

    expect(await human.exited()).to.equal(1);
    expect(await json.exited()).to.equal(1);
    expect(human.lines).to.have.length(9); // eight checks and the verdict
    expect(human.lines.find((line) => line.startsWith('FAIL  PostgreSQL')))
      .to.include(`not reachable at postgres://postgres@${nowhere}/cqrs_dev (connection refused)`)
      .and.include('docker compose up -d postgres redis');
    expect(human.lines.find((line) => line.startsWith('FAIL  Redis '))).to.include(`redis://${nowhere}`);
    expect(human.lines.find((line) => line.startsWith('SKIP  database'))).to.include('needs PostgreSQL');
    expect(human.lines.at(-1)).to.match(/cannot run yet/);
    const report = JSON.parse(json.lines.join('\n')) as DoctorReport;
    expect(report.ok).to.equal(false);
    expect(report.checks.filter((check) => check.status === 'fail').map((check) => check.name)).to.deep.equal([
      'PostgreSQL',
      'Redis',
    ]);
  });
});
