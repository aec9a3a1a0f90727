import { request, type IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { compose } from '../../src/composition-root.js';
import { createProduct } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startProcess, type RunningProcess } from '../support/processes.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** Starts an entry point as a real process (tsx, Node 24), with JSON logs on stdout. */
function run(entry: string, env: Record<string, string>): RunningProcess {
  return startProcess({ args: ['--import', 'tsx', entry], env: { ...env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' } });
}

/**
 * A GET that says when the server has it: with `Expect: 100-continue` Node's server answers
 * `100 Continue` once it has parsed the request, so the request is in flight from then on.
 */
function arrivedGet(url: string, token: string) {
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = request(url, { headers: { authorization: `Bearer ${token}`, expect: '100-continue' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response));
    });
    outgoing.on('continue', () => {
      arrived();
      outgoing.end();
    });
    outgoing.on('error', reject);
    outgoing.flushHeaders();
  });
  return { arrived: Promise.race([arrival, answered.then(() => undefined)]), answered };
}

describe('Graceful shutdown (real processes, SIGTERM)', function () {
  this.timeout(60_000);
  let environment: TestEnvironment;
  let env: Record<string, string>;

  before(async () => {
    environment = await createTestEnvironment({ CONSISTENCY_WAIT_MAX: '1500ms' }, { migrate: true });
    const { config } = environment;
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
    const { url } = (await api.waitForLog('API ready')) as { url: string };
    const seedServices = await compose(environment.config);
    const productId = await createProduct(seedServices, 'acme');
    await seedServices.close();
    const token = tokenFor(environment.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
    // No worker runs, so a read consistent with this command waits its full 1.5 s: a slow request.
    const placed = await http(`${url}/v1/orders`, { token, body: { lines: [{ productId, quantity: 1 }] } });
    const slowRead = arrivedGet(`${url}/v1/orders?consistentWith=${placed.body.commandId}`, token);
    await slowRead.arrived;

    api.child.kill('SIGTERM');
    await api.waitForLog('draining');
    const readiness = await http(`${url}/health/ready`);
    const finished = await slowRead.answered;
    const code = await api.exited();

    expect(readiness.status).to.equal(503);
    expect(readiness.body).to.include({ type: '/problems/service.not-ready' });
    expect(readiness.body.checks).to.include({ draining: 'true' });
    expect(finished.statusCode).to.equal(200);
    expect(finished.headers.consistency).to.equal('stale');
    expect(code).to.equal(0);
  });

  it('When a worker process gets SIGTERM, then it stops its roles and exits 0 well inside the grace period', async () => {
    const worker = run('src/workers/main.ts', { ...env, WORKER_ROLES: 'relay,projections' });
    await worker.waitForLog('worker ready');
    const started = Date.now();

    worker.child.kill('SIGTERM');
    const code = await worker.exited();

    expect(code).to.equal(0);
    expect(Date.now() - started).to.be.below(5_000);
  });
});
