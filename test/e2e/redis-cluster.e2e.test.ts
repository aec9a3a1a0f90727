import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { runDoctor } from '../../src/ops/doctor-checks.js';
import { loadConfig } from '../../src/platform/config.js';
import { dropDatabase, withDatabase } from '../../src/platform/db/database-admin.js';
import { provisionDatabase, uniqueId } from '../support/database.js';
import { eventually, http } from '../support/http.js';
import { infrastructure } from '../support/infrastructure.js';
import { freePort } from '../support/ports.js';
import { missingBinaries, PrivateRedisCluster } from '../support/private-servers.js';
import { runEntry, runToEnd, type RunningProcess } from '../support/processes.js';
import { tokenFor } from '../support/tokens.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const QUEUES = ['projections', 'payments', 'order-expiry', 'webhooks'];

/**
 * The service on a real Redis Cluster: three masters on free loopback ports, the API and worker
 * processes started as a person starts them, with REDIS_CLUSTER_NODES naming the masters and a
 * REDIS_URL that points nowhere (only its credentials count on a cluster, so any client that
 * ignored the cluster would fail). The whole pipeline runs through the hash-tagged prefix:
 * products and orders projected, a payment, a delayed expiry, a dead letter, the dashboard.
 */
describe('Redis Cluster: the whole pipeline on three masters (real processes)', function () {
  // Three redis-servers, `redis-cli --cluster create`, then two tsx boots: seconds on a quiet
  // machine, a minute or more on a loaded one.
  this.timeout(300_000);
  let cluster: PrivateRedisCluster;
  let probe: Cluster;
  let databaseUrl: string;
  let prefix: string;
  let env: Record<string, string>;
  let api: RunningProcess;
  let apiUrl: string;
  let worker: RunningProcess | undefined;
  let receiver: WebhookReceiver;
  let productId: string;
  let expiringOrderId: string;

  const config = () => loadConfig(env);
  const admin = () => tokenFor(config(), { sub: 'root', tenant: 'acme', roles: ['admin'] });
  const customer = () =>
    tokenFor(config(), { sub: 'ada', tenant: 'acme', roles: ['customer'], name: 'Ada', email: 'ada@example.com' });
  const operator = () => tokenFor(config(), { sub: 'op', tenant: 'acme', roles: ['operator'] });

  async function startWorker(extra: Record<string, string>): Promise<RunningProcess> {
    const started = runEntry('src/workers/main.ts', [], { ...env, WORKER_HTTP_PORT: String(await freePort()), ...extra });
    await started.waitForLog('worker ready', 180_000);
    return started;
  }

  /** Every key of this run, by the master that holds it. */
  async function keysByMaster(): Promise<Map<string, string[]>> {
    const byMaster = new Map<string, string[]>();
    for (const master of probe.nodes('master')) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await master.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
      if (keys.length) byMaster.set(`${master.options.host}:${master.options.port}`, keys);
    }
    return byMaster;
  }

  /** The order's read model once projected (404 until then). */
  async function order(id: string) {
    const read = await http(`${apiUrl}/v1/orders/${id}`, { token: customer() });
    expect(read.status).to.be.oneOf([200, 404]);
    return (read.status === 200 ? read.body : { status: 'not projected yet' }) as {
      status: string;
      totalCents: number;
      statusHistory: { status: string }[];
    };
  }

  before(async function () {
    const missing = await missingBinaries('redis-server', 'redis-cli');
    if (missing.length) {
      console.log(`    skipped: ${missing.join(', ')} not on PATH (Debian: apt-get install redis-server)`);
      this.skip();
    }
    cluster = await PrivateRedisCluster.start();
    const seeds = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
    probe = new Cluster(seeds);
    await new Promise((resolve) => probe.once('ready', resolve));

    // A prefix whose slot is served by a master other than the first seed: every command of the
    // service then has to be routed (MOVED) rather than land on the node it dialled first.
    const firstSeed = `127.0.0.1:${seeds[0]!.port}`;
    for (;;) {
      prefix = `{cluster-${uniqueId()}}`;
      const slot = Number(await probe.cluster('KEYSLOT', prefix));
      const owner = (await probe.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
      const master = owner?.[2];
      if (master && `${master[0]}:${master[1]}` !== firstSeed) break;
    }

    const { databaseUrl: server } = await infrastructure();
    databaseUrl = await provisionDatabase(withDatabase(server, `test_${prefix.replace(/\W/g, '_')}`), { migrate: true });
    receiver = await startWebhookReceiver(500);
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: seeds.map(({ host, port }) => `${host}:${port}`).join(','),
      QUEUE_PREFIX: prefix,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      RELAY_POLL_INTERVAL: '200ms',
      PAYMENT_LATENCY: '10ms',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_ATTEMPTS: '2',
      WEBHOOK_RETRY_DELAY: '10ms',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    const apiPort = await freePort();
    api = runEntry('src/api/server.ts', [], { ...env, PORT: String(apiPort) });
    apiUrl = `http://127.0.0.1:${apiPort}`;
    // No payments role yet, and a short payment timeout: the first order can only expire.
    [worker] = await Promise.all([
      startWorker({ WORKER_ROLES: 'relay,projections,expiry,webhooks', ORDER_PAYMENT_TIMEOUT: '1s' }),
      api.waitForLog('API ready', 180_000),
    ]);
  });

  after(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    probe?.disconnect();
    await receiver?.close();
    if (databaseUrl) await dropDatabase(databaseUrl);
    await cluster?.destroy();
  });

  it('When an admin subscribes a webhook and creates a product, then the catalogue projects it and is cached on the cluster', async () => {
    const subscribed = await http(`${apiUrl}/v1/webhooks`, {
      token: admin(),
      body: { url: `${receiver.url}/hooks`, eventTypes: ['product.created'] },
    });
    expect(subscribed.status).to.equal(202);
    const created = await http(`${apiUrl}/v1/products`, {
      token: admin(),
      body: { sku: 'CLUSTER-1', name: 'Slot mug', priceCents: 1250, currency: 'EUR' },
    });
    expect(created.status).to.equal(202);
    productId = created.body.productId;

    const listed = await eventually(
      async () => {
        const page = await http(`${apiUrl}/v1/products`, { token: customer() });
        return page.body.items?.some((item: { id: string }) => item.id === productId) && page;
      },
      60_000,
      'the product in the catalogue',
    );
    expect(listed.body.items).to.have.length(1);
    // The catalogue's cache generation and the per-principal rate limit are cluster keys too.
    expect(await probe.exists(`${prefix}:catalog:acme:generation`)).to.equal(1);
    expect(await probe.exists(`${prefix}:rate-limit:principal:acme:ada`)).to.equal(1);
  });

  it('When the webhook receiver keeps answering 500, then the delivery is dead-lettered and operators see it', async () => {
    const overview = await eventually(
      async () => {
        const queues = await http(`${apiUrl}/v1/admin/queues`, { token: operator() });
        const webhooks = queues.body.items?.find((queue: { name: string }) => queue.name === 'webhooks');
        return webhooks?.deadLetters >= 1 && queues;
      },
      60_000,
      'a dead letter of the webhooks queue',
    );
    expect(overview.body.items.map((queue: { name: string }) => queue.name)).to.have.members(QUEUES);
    expect(receiver.received).to.have.length(2); // WEBHOOK_ATTEMPTS
    expect(await probe.llen(`${prefix}:webhooks.dead-letter:wait`), 'the dead letter waits in its queue on the cluster').to.equal(
      1,
    );
  });

  it('When an order is not paid within its timeout, then the delayed expiry job fires and the read model shows it expired', async () => {
    const placed = await http(`${apiUrl}/v1/orders`, { token: customer(), body: { lines: [{ productId, quantity: 2 }] } });
    expect(placed.status).to.equal(202);
    expiringOrderId = placed.body.orderId;

    const expired = await eventually(
      async () => {
        const view = await order(expiringOrderId);
        return view.status === 'expired' && view;
      },
      60_000,
      'the order to expire',
    );
    expect(expired.statusHistory.map((entry) => entry.status)).to.deep.equal(['placed', 'expired']);
    const queues = await http(`${apiUrl}/v1/admin/queues`, { token: operator() });
    const payments = queues.body.items.find((queue: { name: string }) => queue.name === 'payments');
    expect(payments.counts.waiting, 'its payment job waits: no payments worker runs yet').to.equal(1);
  });

  it('When a worker with every role takes over, then orders are paid and projected, and the expired one stays expired', async () => {
    await worker!.stop();
    expect(await worker!.exited(), 'the first worker drained and closed its cluster clients in time').to.equal(0);
    worker = await startWorker({ WORKER_ROLES: 'all' });

    const placed = await http(`${apiUrl}/v1/orders`, { token: customer(), body: { lines: [{ productId, quantity: 3 }] } });
    expect(placed.status).to.equal(202);
    const paid = await eventually(
      async () => {
        const view = await order(placed.body.orderId);
        return view.status === 'paid' && view;
      },
      60_000,
      'the order to be paid',
    );
    expect(paid.totalCents).to.equal(3750);
    expect(paid.statusHistory.map((entry) => entry.status)).to.deep.equal(['placed', 'paid']);

    await eventually(
      async () => {
        const queues = await http(`${apiUrl}/v1/admin/queues`, { token: operator() });
        const payments = queues.body.items.find((queue: { name: string }) => queue.name === 'payments');
        return payments.counts.completed === 2 && payments.counts.waiting === 0;
      },
      60_000,
      'both payment jobs to complete',
    );
    expect((await order(expiringOrderId)).status, 'a late authorization does not revive an expired order').to.equal('expired');
  });

  it('When an operator opens the dashboard, then it lists every queue and its dead-letter queue, with workers seen on the cluster; so does `npm run ops`', async () => {
    const sameOrigin = { origin: apiUrl, 'sec-fetch-site': 'same-origin' };
    const signIn = await fetch(`${apiUrl}/admin/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sameOrigin },
      body: new URLSearchParams({ token: operator() }),
    });
    expect(signIn.status).to.equal(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;

    const board = await fetch(`${apiUrl}/admin/queues/api/queues`, { headers: { cookie } });
    expect(board.status).to.equal(200);
    const { queues } = (await board.json()) as {
      queues: { name: string; counts: Record<string, number>; hasWorkers: boolean | null }[];
    };
    expect(queues.map((queue) => queue.name)).to.have.members(QUEUES.flatMap((name) => [name, `${name}.dead-letter`]));
    const named = (name: string) => queues.find((queue) => queue.name === name)!;
    expect(named('webhooks.dead-letter').counts.waiting).to.equal(1);
    expect(named('payments').hasWorkers, 'CLIENT LIST is asked of every node').to.equal(true);

    const listed = await runToEnd('src/ops/cli.ts', ['queues'], env);
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout, '`npm run ops -- queues` on the cluster').to.match(/^payments\s+\d+/m);
  });

  it('When an operator redrives the dead letter and rebuilds a read model, then both run on the cluster (locks and progress included)', async () => {
    const redriven = await http(`${apiUrl}/v1/admin/queues/webhooks/dead-letters/redrive`, { token: operator(), method: 'POST' });
    expect(redriven.body).to.deep.equal({ queue: 'webhooks', redriven: 1 });
    // The receiver still answers 500: two more attempts, and the letter is back.
    await eventually(async () => receiver.received.length === 4, 60_000, 'the redriven delivery to be tried again');
    await eventually(
      async () => (await probe.llen(`${prefix}:webhooks.dead-letter:wait`)) === 1,
      60_000,
      'the dead letter to return',
    );

    const started = await http(`${apiUrl}/v1/admin/projections/order_view/rebuild`, { token: operator(), method: 'POST' });
    expect(started.status).to.equal(202);
    const done = await eventually(
      async () => {
        const progress = await http(`${apiUrl}/v1/admin/projections/order_view/rebuild`, { token: operator() });
        return progress.body.finishedAt ? progress.body : undefined;
      },
      60_000,
      'the order_view rebuild',
    );
    expect(done.applied).to.equal(done.total);
    expect(await probe.exists(`${prefix}:rebuild:order_view:lock`), 'the lock is released').to.equal(0);
    expect((await order(expiringOrderId)).status, 'the rebuilt read model').to.equal('expired');
  });

  it('When the keys are counted, then every key of the service shares the hash tag: one slot, one master, no CROSSSLOT', async () => {
    const byMaster = await keysByMaster();
    const slots = new Set(
      await Promise.all([...byMaster.values()].flat().map((key) => probe.cluster('KEYSLOT', key).then(Number))),
    );

    expect(byMaster.size).to.equal(1);
    expect(slots.size).to.equal(1);
    const [keys] = [...byMaster.values()];
    expect(keys).to.include.members([`${prefix}:payments:meta`, `${prefix}:order-expiry:meta`]);
  });

  it('When readiness, metrics and the doctor look at Redis, then they see the cluster: gauges from its masters, every node checked', async () => {
    const ready = await http(`${apiUrl}/health/ready`);
    expect(ready.status).to.equal(200);
    expect(ready.body.checks.redis).to.equal('ok');
    const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(metrics).to.match(/^cqrs_dependency_up\{[^}]*dependency="redis"[^}]*\} 1$/m);
    expect(gauge('cqrs_redis_used_memory_bytes')).to.be.greaterThan(0);

    // INFO has no key: the gauges ask every master and report the one closest to its maxmemory.
    const masters = cluster.nodes.map((node) => new Redis(node.port, '127.0.0.1'));
    try {
      const used = Number(/^used_memory:(\d+)/m.exec(await masters[1]!.info('memory'))![1]);
      const tight = used + 8 * 1024 * 1024;
      await Promise.all(
        masters.map((master, index) => master.config('SET', 'maxmemory', String(index === 1 ? tight : 4 * 1024 ** 3))),
      );
      // Several scrapes: a client that asked one node at random would hit the tight one a third of the time.
      for (let scrape = 0; scrape < 6; scrape++) {
        const scraped = await (await fetch(`${apiUrl}/metrics`)).text();
        expect(Number(/^cqrs_redis_maxmemory_bytes(?:\{[^}]*\})? (\d+)/m.exec(scraped)?.[1]), `scrape ${scrape}`).to.equal(tight);
      }
    } finally {
      await Promise.all(masters.map((master) => master.config('SET', 'maxmemory', '0')));
      masters.forEach((master) => master.disconnect());
    }

    const report = await runDoctor(config());
    const check = (name: string) => report.checks.find((found) => found.name === name)!;
    expect(check('Redis').detail).to.match(/^Redis Cluster \(3 nodes, /);
    expect(check('Redis maxmemory-policy').status).to.equal('ok');

    // One node that may evict is enough to refuse the cluster, whichever it is: every node is asked.
    for (const node of cluster.nodes) {
      const server = new Redis(node.port, '127.0.0.1');
      try {
        await server.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const evicting = await runDoctor(config());
        expect(evicting.checks.find((found) => found.name === 'Redis maxmemory-policy')!.status, `node ${node.port}`).to.equal(
          'fail',
        );
      } finally {
        await server.config('SET', 'maxmemory-policy', 'noeviction');
        server.disconnect();
      }
    }
  });
});
