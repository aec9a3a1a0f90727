import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import pg from 'pg';
import { migrations } from '../../migrations/index.js';
import { freePort } from '../support/ports.js';
import { eventually, http } from '../support/http.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';
import { startSurroundings, type Surroundings } from './support/identity-provider.js';
import { manifests, workload, type Workload } from './support/manifests.js';
import { imageSize, podman, RunningContainer, SHELLS } from './support/podman.js';

/**
 * The images built by scripts/images/build.sh, run the way the Kubernetes manifests run them:
 * the rendered pod templates give the args (after tini), the environment (ConfigMap + literal
 * values), the uid, the read-only root filesystem with an emptyDir at /tmp, the grace period and
 * the preStop pause. Every shell in the image is masked, and all capabilities are dropped.
 * What the test replaces, and why: connection strings come from cluster Secrets (here: a
 * database and queue prefix of this run's own on the host's PostgreSQL and Redis), ports are free
 * ones (host networking shares the host's ports), and the identity provider and the collector are
 * the test's own (the ConfigMap names cluster and placeholder hosts).
 */
const TAG = { runtime: 'local', dev: 'dev' } as const;
const SIZE_BUDGET = JSON.parse(readFileSync(new URL('./size-budget.json', import.meta.url), 'utf8')) as Record<
  string,
  { maxMiB: number }
>;
const MiB = 1024 * 1024;
/** IMAGES_DEV=0 (scripts/images/build.sh): the faster variant, built and run without the dev stage. */
const WITH_DEV_STAGE = process.env.IMAGES_DEV !== '0';

describe('Images, run as the manifests run them (podman, host network)', function () {
  this.timeout(240_000);
  const runId = `${Date.now().toString(36)}-${process.pid}`;
  const base = manifests('base');
  const started: RunningContainer[] = [];
  let environment: TestEnvironment;
  let surroundings: Surroundings;
  let database: pg.Client;

  /** The environment a workload's container gets here: its manifest's, with the replacements above. */
  async function environmentFor(spec: Workload): Promise<Record<string, string>> {
    const { config } = environment;
    const replacements: Record<string, string> = {
      DATABASE_URL: config.DATABASE_URL,
      DATABASE_READ_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      // The cluster's cqrs-encryption Secret: a fresh key for this run.
      SECRET_ENCRYPTION_KEYS: `images-test:${randomBytes(32).toString('base64')}`,
    };
    const env: Record<string, string> = { ...spec.env };
    for (const key of spec.fromSecrets) if (replacements[key]) env[key] = replacements[key];
    env.QUEUE_PREFIX = config.QUEUE_PREFIX;
    if ('PORT' in env) env.PORT = String(await freePort());
    if ('WORKER_HTTP_PORT' in env) env.WORKER_HTTP_PORT = String(await freePort());
    if (env.JWT_JWKS_URI) env.JWT_JWKS_URI = surroundings.jwksUri;
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT) env.OTEL_EXPORTER_OTLP_ENDPOINT = surroundings.otlpEndpoint;
    return env;
  }

  async function start(spec: Workload, variant: keyof typeof TAG): Promise<{ container: RunningContainer; url: string }> {
    const env = await environmentFor(spec);
    const container = new RunningContainer({
      name: `cqrs-images-${runId}-${spec.name}-${variant}`,
      image: `localhost/${spec.image}:${TAG[variant]}`,
      args: spec.args,
      env,
      user: spec.user,
      readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
      tmpSize: spec.tmpSize,
      // The runtime images need no shell; the dev stage runs npm scripts, which do.
      maskShells: variant === 'runtime',
    });
    started.push(container);
    const url = `http://127.0.0.1:${spec.probedPortVariable ? env[spec.probedPortVariable] : '(not probed)'}`;
    return { container, url };
  }

  async function ready(container: RunningContainer, url: string, timeoutMs = 120_000): Promise<void> {
    const exited = container.exited.then((code) => {
      throw new Error(`${container.run.name} exited (${String(code)}) before it was ready:\n${container.output()}`);
    });
    const up = eventually(
      () =>
        fetch(`${url}/health/ready`).then(
          (response) => response.ok,
          () => false,
        ),
      timeoutMs,
      `${container.run.name} ready at ${url}`,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; its output:\n${container.output()}`, { cause: error });
    });
    await Promise.race([up, exited]);
  }

  /** SIGTERM as the kubelet sends it after preStop; resolves with the exit code and the seconds it took. */
  async function terminate(container: RunningContainer): Promise<{ code: number | null; seconds: number }> {
    const before = Date.now();
    await container.signal('SIGTERM');
    const code = await container.exited;
    return { code, seconds: (Date.now() - before) / 1000 };
  }

  function expectCleanDrain(spec: Workload, container: RunningContainer, result: { code: number | null; seconds: number }) {
    const budget = spec.gracePeriodSeconds - spec.preStopSeconds;
    console.log(
      `    ${container.run.image} as ${spec.name}: exit ${String(result.code)} after ${result.seconds.toFixed(1)} s (budget ${budget} s)`,
    );
    expect(result.code, `${spec.name} exit code; output:\n${container.output()}`).to.equal(0);
    expect(
      result.seconds,
      `${spec.name} drain time (grace ${spec.gracePeriodSeconds} s - preStop ${spec.preStopSeconds} s)`,
    ).to.be.below(budget);
    expect(container.output()).to.contain('draining');
    expect(container.output()).to.contain('drained; exiting');
  }

  before(async () => {
    environment = await createTestEnvironment();
    const config = workload(base, 'Deployment', 'cqrs-api').env;
    surroundings = await startSurroundings(config.JWT_ISSUER!, config.JWT_AUDIENCE!);
    database = new pg.Client({ connectionString: environment.config.DATABASE_URL });
    await database.connect();
  });

  after(async () => {
    await Promise.all(started.map((container) => container.remove()));
    await database?.end();
    await surroundings?.close();
    await environment?.destroy();
  });

  it('When a container runs a shell, then it cannot: every shell of the image is masked', async () => {
    const probe = await podman(
      'run',
      '--rm',
      '--security-opt',
      `mask=${SHELLS.join(':')}`,
      '--entrypoint',
      '/usr/bin/sh',
      `localhost/cqrs-api:${TAG.runtime}`,
      '-c',
      'exit 0',
    ).then(
      () => 'ran',
      () => 'refused',
    );

    expect(probe).to.equal('refused');
  });

  it('When the migration Job runs the API image, then it applies every migration and exits 0', async () => {
    const spec = workload(base, 'Job', 'cqrs-migrate');
    const { container } = await start(spec, 'runtime');

    const code = await container.exited;

    expect(code, container.output()).to.equal(0);
    const { rows } = await database.query<{ name: string }>('select name from mikro_orm_migrations order by id');
    expect(rows.map((row) => row.name)).to.deep.equal(migrations.map((migration) => migration.name));
  });

  it('When an order is placed through the API container, then the relay and projections containers project it, and each drains on SIGTERM', async () => {
    const specs = ['cqrs-api', 'cqrs-relay', 'cqrs-projections'].map((name) => workload(base, 'Deployment', name));
    const [api, relay, projections] = await Promise.all(specs.map((spec) => start(spec, 'runtime')));
    await Promise.all([api!, relay!, projections!].map(({ container, url }) => ready(container, url)));
    const admin = surroundings.token({ sub: 'images-admin', tenant: 'acme', roles: ['admin'] });
    const customer = surroundings.token({ sub: 'images-ada', tenant: 'acme', roles: ['customer'] });

    const product = await http(`${api!.url}/v1/products`, {
      token: admin,
      body: { sku: `IMG-${runId}`, name: 'Image mug', priceCents: 1250, currency: 'EUR' },
    });
    const placed = await http(`${api!.url}/v1/orders`, {
      token: customer,
      body: { lines: [{ productId: product.body.productId, quantity: 2 }] },
    });
    const read = await http(`${api!.url}/v1/orders/${placed.body.orderId}?consistentWith=${placed.body.commandId}`, {
      token: customer,
    });

    expect([product.status, placed.status], JSON.stringify([product.body, placed.body])).to.deep.equal([202, 202]);
    expect(read.status).to.equal(200);
    expect(read.headers.get('consistency')).to.equal('fresh');
    expect(read.body).to.deep.include({ id: placed.body.orderId, status: 'placed', totalCents: 2500, currency: 'EUR' });
    const { rows } = await database.query(
      'select status, total_cents::int as total_cents, version from order_view where id = $1',
      [placed.body.orderId],
    );
    expect(rows).to.deep.equal([{ status: 'placed', total_cents: 2500, version: 1 }]);

    // Drain: the API turns unready at once (tini forwarded the signal to node), then exits 0.
    const apiStopping = terminate(api!.container);
    await api!.container.printed('draining');
    const readiness = await fetch(`${api!.url}/health/ready`);
    const [apiExit, relayExit, projectionsExit] = await Promise.all([
      apiStopping,
      terminate(relay!.container),
      terminate(projections!.container),
    ]);
    expect(readiness.status).to.equal(503);
    expectCleanDrain(specs[0]!, api!.container, apiExit);
    expectCleanDrain(specs[1]!, relay!.container, relayExit);
    expectCleanDrain(specs[2]!, projections!.container, projectionsExit);
  });

  it('When the dev stage runs as skaffold dev runs it (k8s/overlays/dev-sync), then it serves and drains on SIGTERM like the others', async function () {
    if (!WITH_DEV_STAGE) this.skip(); // IMAGES_DEV=0: the faster variant, stated in its output
    const dev = manifests('dev');
    const specs = [workload(dev, 'Deployment', 'cqrs-api'), workload(dev, 'Deployment', 'cqrs-relay')];
    const running = await Promise.all(specs.map((spec) => start(spec, 'dev')));
    await Promise.all(running.map(({ container, url }) => ready(container, url, 180_000)));

    const results = await Promise.all(running.map(({ container }) => terminate(container)));

    specs.forEach((spec, index) => expectCleanDrain(spec, running[index]!.container, results[index]!));
  });

  it('When the images are measured, then none outgrows its committed budget (test/images/size-budget.json)', async () => {
    const baseImage = `localhost/node:${JSON.parse(readFileSync('package.json', 'utf8')).devDependencies.node}-slim`;
    const baseBytes = await imageSize(baseImage);
    const measured = await Promise.all(
      Object.keys(SIZE_BUDGET)
        .filter((image) => WITH_DEV_STAGE || !image.endsWith(':dev'))
        .map(async (image) => ({ image, added: (await imageSize(`localhost/${image}`)) - baseBytes })),
    );

    const table = measured.map(
      ({ image, added }) =>
        `  ${image.padEnd(20)} ${(added / MiB).toFixed(1).padStart(7)} MiB on top of the base (budget ${SIZE_BUDGET[image]!.maxMiB} MiB)`,
    );
    console.log(`    base ${baseImage}: ${(baseBytes / MiB).toFixed(1)} MiB\n${table.join('\n')}`);
    const over = measured.filter(({ image, added }) => added > SIZE_BUDGET[image]!.maxMiB * MiB).map(({ image }) => image);
    expect(over, 'images over their size budget').to.deep.equal([]);
  });
});
