import { expect } from 'chai';
import pg from 'pg';
import { startApiServer, type RunningApi } from '../../src/api/api-server.js';
import { compose, type Services } from '../../src/composition-root.js';
import { migrateUp } from '../../src/platform/db/orm.js';
import { eventFromLogRow, type EventLogRow } from '../../src/events/event-log.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { missingBinaries, PrivatePostgres } from '../support/private-servers.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/**
 * A real hot standby: a private primary, `pg_basebackup -R` streaming to a second server, and the
 * service's DATABASE_READ_URL on the standby. Replay is paused to make replication lag visible.
 */
describe('Read replica: a streaming hot standby as DATABASE_READ_URL', function () {
  // initdb + pg_basebackup take seconds on a quiet machine and minutes on a loaded one.
  this.timeout(300_000);
  let primary: PrivatePostgres;
  let standby: PrivatePostgres;
  let environment: TestEnvironment;
  let services: Services;
  let api: RunningApi;
  let onStandby: pg.Client;
  const database = 'replica_test';

  before(async function () {
    const missing = await missingBinaries('initdb', 'pg_ctl', 'pg_basebackup');
    if (missing.length) {
      console.log(`    skipped: the PostgreSQL server binaries ${missing.join(', ')} are not on PATH`);
      this.skip();
    }
    primary = await PrivatePostgres.start();
    environment = await createTestEnvironment({ DATABASE_URL: primary.url(database), CONSISTENCY_WAIT_MAX: '3s' });
    // The base backup is taken after the database exists; everything later arrives by streaming.
    standby = await PrivatePostgres.standbyOf(primary);
    services = await compose({ ...environment.config, DATABASE_READ_URL: standby.url(database) });
    await migrateUp(services.orm);
    api = await startApiServer(services, 0);
    onStandby = await connectTo(standby);
  });
  after(async () => {
    await onStandby?.end().catch(() => undefined);
    await api?.stop();
    await services?.close();
    await environment?.destroy();
    await standby?.destroy();
    await primary?.destroy();
  });
  afterEach(async () => {
    if ((await standby.running()) && (await isPaused())) await onStandby.query('select pg_wal_replay_resume()');
  });

  async function connectTo(server: PrivatePostgres): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: server.url(database) });
    client.on('error', () => undefined); // the standby is stopped on purpose below
    await client.connect();
    return client;
  }

  const ada = principal('ada', 'acme', ['customer']);
  const adaToken = () => tokenFor(services.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });

  async function isPaused(): Promise<boolean> {
    const {
      rows: [state],
    } = await onStandby.query<{ state: string }>('select pg_get_wal_replay_pause_state() as state');
    return state!.state !== 'not paused';
  }

  async function pauseReplay(): Promise<void> {
    await onStandby.query('select pg_wal_replay_pause()');
    await eventually(
      async () => (await onStandby.query('select pg_get_wal_replay_pause_state() as s')).rows[0].s === 'paused',
      10_000,
      'replay paused',
    );
  }

  /** Places an order on the primary and projects it there (the projections worker's job, done inline). */
  async function placeAndProject(productId: string) {
    const placed = await services.commands.placeOrder.handle(ada, { lines: [{ productId, quantity: 1 }] });
    const [row] = await rows<EventLogRow>(services, "select * from outbox_events where command_id = ? and type = 'OrderPlaced'", [
      placed.commandId,
    ]);
    await services.projector.project(eventFromLogRow(row!));
    return placed;
  }

  /** Waits until the standby has replayed everything the primary has written so far. */
  async function caughtUp(): Promise<void> {
    const [current] = await rows<{ lsn: string }>(services, 'select pg_current_wal_lsn()::text as lsn');
    const lsn = current!.lsn;
    await eventually(
      async () => (await onStandby.query('select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [lsn])).rows[0].done,
      20_000,
      'the standby to replay the primary',
    );
  }

  it('When the service reads, then queries run on the standby (in recovery, its own port) and commands on the primary', async () => {
    const em = services.orm.em.fork();
    const [read] = await em.execute<{ standby: boolean; port: number }[]>(
      'select pg_is_in_recovery() as standby, inet_server_port() as port',
      [],
      { connectionType: 'read' },
    );
    const [write] = await em.execute<{ standby: boolean; port: number }[]>(
      'select pg_is_in_recovery() as standby, inet_server_port() as port',
    );
    expect(read).to.deep.equal({ standby: true, port: standby.port });
    expect(write).to.deep.equal({ standby: false, port: primary.port });
    const senders = await rows<{ state: string }>(services, 'select state from pg_stat_replication');
    expect(senders.map((sender) => sender.state)).to.deep.equal(['streaming']);
  });

  it('When replay is paused, then a plain read does not see a projected order until the standby catches up', async () => {
    const productId = await createProduct(services, 'acme');
    await caughtUp();
    await pauseReplay();
    const placed = await placeAndProject(productId);
    const [onPrimary] = await rows(services, 'select id from order_view where id = ?', [placed.aggregateId]);
    expect(onPrimary, 'the primary has the row').to.exist;

    const lagging = await http(`${api.url}/v1/orders/${placed.aggregateId}`, { token: adaToken() });
    expect(lagging.status, 'the read is served by the paused standby').to.equal(404);

    await onStandby.query('select pg_wal_replay_resume()');
    await caughtUp();
    const caught = await http(`${api.url}/v1/orders/${placed.aggregateId}`, { token: adaToken() });
    expect(caught.status).to.equal(200);
    expect(caught.body).to.include({ id: placed.aggregateId, status: 'placed' });
  });

  it('When a client reads consistentWith its command while the standby lags, then the read waits for replay and answers fresh', async () => {
    const productId = await createProduct(services, 'acme');
    await caughtUp();
    await pauseReplay();
    const placed = await placeAndProject(productId);

    const reading = http(`${api.url}/v1/orders/${placed.aggregateId}?consistentWith=${placed.commandId}`, { token: adaToken() });
    // Resume only once the read is really waiting on the standby (its progress query is running).
    await eventually(
      async () => {
        const { rows: waiting } = await onStandby.query(
          "select count(*)::int as n from pg_stat_activity where query like '%processed_events%' and pid <> pg_backend_pid()",
        );
        return waiting[0].n > 0;
      },
      10_000,
      'the read to wait on the standby',
    );
    await onStandby.query('select pg_wal_replay_resume()');

    const read = await reading;
    expect(read.status).to.equal(200);
    expect(read.headers.get('consistency')).to.equal('fresh');
    expect(read.body).to.include({ id: placed.aggregateId, status: 'placed' });
  });

  it('When the standby stays behind longer than the wait bound, then the read answers within the bound and says it is stale', async () => {
    const productId = await createProduct(services, 'acme');
    const older = await placeAndProject(productId);
    await caughtUp();
    await pauseReplay();
    const placed = await placeAndProject(productId);

    const started = Date.now();
    const read = await http(`${api.url}/v1/orders?consistentWith=${placed.commandId}`, { token: adaToken() });
    const waited = Date.now() - started;
    expect(read.status).to.equal(200);
    expect(read.headers.get('consistency')).to.equal('stale');
    expect(waited, 'bounded by CONSISTENCY_WAIT_MAX (3 s)').to.be.within(2_500, 10_000);
    const ids = read.body.items.map((item: { id: string }) => item.id);
    expect(ids).to.include(older.aggregateId).and.not.include(placed.aggregateId);
  });

  it('When the standby is down, then reads fail with a problem (no hang), commands still succeed, and reads recover when it returns', async () => {
    const productId = await createProduct(services, 'acme');
    await onStandby.end();
    await standby.stopServer('fast');
    try {
      const started = Date.now();
      const read = await http(`${api.url}/v1/orders`, { token: adaToken() });
      expect(Date.now() - started, 'no hang').to.be.below(10_000);
      expect(read.status).to.equal(503);
      expect(read.headers.get('content-type')).to.contain('application/problem+json');
      expect(read.body.type).to.equal('/problems/database.unavailable');

      const placed = await http(`${api.url}/v1/orders`, { token: adaToken(), body: { lines: [{ productId, quantity: 1 }] } });
      expect(placed.status, 'the write path needs only the primary').to.equal(202);
      const [order] = await rows(services, 'select id from orders where id = ?', [placed.body.orderId]);
      expect(order).to.exist;
    } finally {
      await standby.startServer();
      onStandby = await connectTo(standby);
    }
    await eventually(
      async () => (await http(`${api.url}/v1/orders`, { token: adaToken() })).status === 200,
      30_000,
      'reads to recover',
    );
  });
});
