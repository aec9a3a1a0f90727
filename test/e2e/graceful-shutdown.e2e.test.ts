import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { compose } from '../../src/composition-root.js';
import { migrateUp } from '../../src/platform/db/orm.js';
import { createProduct } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

interface Running {
  child: ChildProcess;
  /** Resolves with the first log record whose message matches. */
  logged(message: string): Promise<Record<string, unknown>>;
}

/** Starts an entry point as a real process (tsx, Node 24), with JSON logs on stdout. */
function run(entry: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const waiting: { message: string; resolve: (record: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    for (const waiter of waiting.filter((w) => record.message === w.message)) waiter.resolve(record);
  });
  return { child, logged: (message) => new Promise((resolve) => waiting.push({ message, resolve })) };
}

describe('Graceful shutdown (real processes, SIGTERM)', function () {
  this.timeout(60_000);
  let environment: TestEnvironment;
  let env: Record<string, string>;

  before(async () => {
    environment = await createTestEnvironment({ CONSISTENCY_WAIT_MAX: '1500ms' });
    const { config } = environment;
    const services = await compose(config);
    await migrateUp(services.orm);
    await services.close();
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      PORT: '0',
      WORKER_HTTP_PORT: '0',
      CONSISTENCY_WAIT_MAX: '1500ms',
      SHUTDOWN_DELAY_MS: '400',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
  });
  after(() => environment.destroy());

  it('When the API gets SIGTERM, then readiness turns 503 at once, the in-flight request completes, and the process exits 0', async () => {
    const api = run('src/api/server.ts', env);
    const { url } = (await api.logged('API ready')) as { url: string };
    const seedServices = await compose(environment.config);
    const productId = await createProduct(seedServices, 'acme');
    await seedServices.close();
    const token = tokenFor(environment.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
    // No worker runs, so a read consistent with this command waits its full 1.5 s: a slow request.
    const placed = await http(`${url}/v1/orders`, { token, body: { lines: [{ productId, quantity: 1 }] } });
    const slowRead = http(`${url}/v1/orders?consistentWith=${placed.body.commandId}`, { token });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const exited = once(api.child, 'exit');
    api.child.kill('SIGTERM');
    await api.logged('draining');
    const readiness = await http(`${url}/health/ready`);
    const finished = await slowRead;
    const [code] = await exited;

    expect(readiness.status).to.equal(503);
    expect(finished.status).to.equal(200);
    expect(finished.headers.get('consistency')).to.equal('stale');
    expect(code).to.equal(0);
  });

  it('When a worker process gets SIGTERM, then it stops its roles and exits 0 well inside the grace period', async () => {
    const worker = run('src/workers/main.ts', { ...env, WORKER_ROLES: 'relay,projections' });
    await worker.logged('worker ready');
    const started = Date.now();

    const exited = once(worker.child, 'exit');
    worker.child.kill('SIGTERM');
    const [code] = await exited;

    expect(code).to.equal(0);
    expect(Date.now() - started).to.be.below(5_000);
  });
});
