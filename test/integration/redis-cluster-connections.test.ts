import { expect } from 'chai';
import { Redis } from 'ioredis';
import { openQueue, openWorker, QueueConnections } from '../../src/platform/queues.js';
import { eventually } from '../support/http.js';
import { missingBinaries, PrivateRedisCluster } from '../support/private-servers.js';

/**
 * BullMQ never closes a client it is handed, and on a cluster it must be handed one: the
 * service's QueueConnections closes them. Without that, every closed process (or mocha run)
 * would keep connections to every node open.
 */
describe('Redis Cluster connections: BullMQ gets Cluster clients, and the service closes them', function () {
  this.timeout(120_000);
  let cluster: PrivateRedisCluster;
  let admins: Redis[];

  before(async function () {
    const missing = await missingBinaries('redis-server', 'redis-cli');
    if (missing.length) {
      console.log(`    skipped: ${missing.join(', ')} not on PATH (Debian: apt-get install redis-server)`);
      this.skip();
    }
    cluster = await PrivateRedisCluster.start();
    admins = cluster.nodes.map((node) => new Redis(node.port, '127.0.0.1'));
  });
  after(async () => {
    admins?.forEach((admin) => admin.disconnect());
    await cluster?.destroy();
  });

  /** Client connections on every node, ours (the admin connections) left out. */
  async function connections(): Promise<number> {
    const lists = await Promise.all(admins.map((admin) => admin.client('LIST') as Promise<string>));
    return lists.reduce((sum, list) => sum + list.trim().split('\n').length - 1, 0);
  }

  it('When queues and workers on a cluster are closed and then the connections, then no connection is left on any node', async () => {
    const seeds = cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
    const settings = { connections: new QueueConnections({ url: 'redis://127.0.0.1:1', clusterNodes: seeds }), prefix: '{conn}' };
    const queue = openQueue('payments', settings);
    let taken: (data: unknown) => void;
    const done = new Promise<unknown>((resolve) => (taken = resolve));
    const worker = openWorker('payments', async (job) => taken(job.data), settings);
    await queue.add('x', { on: 'the cluster' }, { delay: 50 });
    const data = await done;
    expect(data).to.deep.equal({ on: 'the cluster' });
    expect(await connections()).to.be.greaterThan(0);

    await worker.close();
    await queue.close();
    settings.connections.close();

    await eventually(async () => (await connections()) === 0, 10_000, 'every connection to every node to close');
  });
});
