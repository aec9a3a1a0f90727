import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { runEntry, type RunningProcess } from '../support/processes.js';
import { freePort } from '../support/ports.js';
import { startRedis, stopRedis } from '../support/private-servers.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

const WAYS_OUT = /start your local (PostgreSQL|Redis).*docker compose up -d postgres redis/;

/** What no first run may show: a stack trace or ioredis's complaint about an unheard error. */
function expectNoStackTrace(process: RunningProcess): void {
  const output = process.lines.join('\n');
  expect(output).not.to.match(/Unhandled error event/);
  expect(output).not.to.match(/^\s+at .+:\d+:\d+\)?$/m);
  expect(output).not.to.match(/triggerUncaughtException|ECONNREFUSED.*\n\s+at /);
}

describe('First run: every entry point answers an unreachable dependency with one clear message', function () {
  this.timeout(120_000);
  let environment: TestEnvironment;
  let env: Record<string, string>;
  let nowhere: string;

  before(async () => {
    environment = await createTestEnvironment({}, { migrate: true });
    const { config } = environment;
    env = {
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      PORT: '0',
      WORKER_HTTP_PORT: '0',
      LOG_FORMAT: 'json',
    };
    nowhere = `127.0.0.1:${await freePort()}`;
  });
  after(() => environment.destroy());

  it('When PostgreSQL is unreachable, then migrate and the ops CLI exit 1 at once, naming the URL and the two ways out', async () => {
    const database = `postgres://postgres@${nowhere}/cqrs_dev`;
    const migrate = runEntry('src/platform/db/migrate.ts', [], { ...env, DATABASE_URL: database });
    const cli = runEntry('src/ops/cli.ts', ['queues'], { ...env, DATABASE_URL: database });

    const [migrateExit, cliExit] = await Promise.all([migrate.exited(), cli.exited()]);

    for (const [entry, code] of [
      [migrate, migrateExit],
      [cli, cliExit],
    ] as const) {
      expect(code, entry.lines.join('\n')).to.equal(1);
      const said = entry.lines.filter((line) => line.includes('not reachable'));
      expect(said, entry.lines.join('\n')).to.have.length(1);
      expect(said[0]).to.include(`PostgreSQL is not reachable at ${database}`).and.match(WAYS_OUT);
      expectNoStackTrace(entry);
    }
  });

  it('When Redis is unreachable, then the ops CLI exits 1 with the Redis URL it tried', async () => {
    const cli = runEntry('src/ops/cli.ts', ['queues'], { ...env, REDIS_URL: `redis://${nowhere}` });

    expect(await cli.exited()).to.equal(1);
    expect(cli.lines.join('\n')).to.include(`Redis is not reachable at redis://${nowhere}`).and.match(WAYS_OUT);
    expectNoStackTrace(cli);
  });

  it('When PostgreSQL stays away, then the all-in-one process waits quietly for DEPENDENCY_WAIT, then exits 1', async () => {
    const database = `postgres://postgres@${nowhere}/cqrs_dev`;
    const local = runEntry('src/local.ts', [], { ...env, DATABASE_URL: database, DEPENDENCY_WAIT: '2s' });

    expect(await local.exited()).to.equal(1);
    const records = local.lines.map((line) => JSON.parse(line) as { level: string; message: string });
    expect(records.map((record) => record.level)).to.deep.equal(['warn', 'error']);
    expect(records[0]!.message).to.include(`PostgreSQL is not reachable at ${database}`).and.include('Waiting up to 2 s');
    expect(records[1]!.message).to.match(WAYS_OUT);
    expectNoStackTrace(local);
  });

  it('When Redis is away and the eviction check is `refuse`, then the API does not skip the check: it waits, then refuses to start', async () => {
    const api = runEntry('src/api/server.ts', [], { ...env, REDIS_URL: `redis://${nowhere}`, DEPENDENCY_WAIT: '1s' });

    expect(await api.exited()).to.equal(1);
    expect(api.lines.join('\n')).to.include(`Redis is not reachable at redis://${nowhere}`).and.include('Waiting up to 1 s');
    expect(api.lines.some((line) => line.includes('API ready'))).to.equal(false);
    expectNoStackTrace(api);
  });

  it('When Redis comes up while a worker waits for it, then the worker starts and says so', async () => {
    const port = await freePort();
    const worker = runEntry('src/workers/main.ts', ['--role', 'projections'], {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DEPENDENCY_WAIT: '60s',
    });
    let redis: ChildProcess | undefined;
    try {
      await worker.waitFor(/Redis is not reachable.*Waiting up to 60 s/);
      redis = await startRedis(port);

      await worker.waitFor(/Redis is reachable now/);
      await worker.waitFor(/worker ready/);
      expectNoStackTrace(worker);
    } finally {
      await worker.stop();
      if (redis) await stopRedis(redis);
    }
  });

  it('When Redis goes away under a running worker, then connection warnings are one line per dependency per interval, never an unhandled error', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const worker = runEntry('src/workers/main.ts', ['--role', 'projections,payments,expiry,webhooks'], {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      CONNECTION_WARNING_INTERVAL: '3s',
    });
    try {
      await worker.waitFor(/worker ready/);
      await stopRedis(redis);
      // Four queues' workers reconnect and fail over and over; the next line comes one interval
      // after the first and says how many it stood for.
      const next = JSON.parse(await worker.waitFor(/Redis is not reachable.*repeatedSinceLastLine/)) as Record<string, unknown>;
      redis = await startRedis(port);

      const warnings = worker.lines.filter((line) => line.includes('Redis is not reachable'));
      expect(warnings, worker.lines.join('\n')).to.have.length(2);
      expect(warnings[0])
        .to.match(WAYS_OUT)
        .and.not.match(/repeatedSinceLastLine/);
      expect(next.repeatedSinceLastLine, 'reconnect failures folded into the interval').to.be.at.least(3);
      expectNoStackTrace(worker);
    } finally {
      await worker.stop();
      await stopRedis(redis);
    }
  });
});
