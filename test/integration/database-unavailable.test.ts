import { setTimeout } from 'node:timers/promises';
import { expect } from 'chai';
import { connectOrm, type Orm } from '../../src/platform/db/orm.js';
import { isDatabaseUnavailable } from '../../src/platform/db/unavailable.js';
import { infrastructure } from '../support/infrastructure.js';
import { freePort } from '../support/ports.js';

/**
 * The API answers 503 (retry later) only when the database could not be reached; a query that the
 * server refuses is the request's fault and must never be dressed up as an outage.
 */
describe('Database unavailable or the query at fault (real PostgreSQL errors)', function () {
  this.timeout(30_000);
  let orm: Orm;

  before(async () => {
    orm = await connectOrm({ databaseUrl: (await infrastructure()).databaseUrl, poolMax: 1, entities: [] });
  });
  after(async () => {
    await orm?.close(true);
  });

  it('When a NUL byte ends up inside the SQL text (08P01, protocol violation), then it is not an outage', async () => {
    const error = await orm.em
      .fork()
      .execute(`select 'a${'\u0000'}b' as text`)
      .then(
        () => expect.fail('PostgreSQL accepted a NUL byte in the SQL text'),
        (caught: unknown) => caught,
      );
    expect((error as { code?: string }).code).to.equal('08P01');
    expect(isDatabaseUnavailable(error)).to.equal(false);
  });

  it('When every pooled connection stays busy past the acquire timeout, then the next caller is told "unavailable" instead of queueing', async () => {
    const busy = await connectOrm({
      databaseUrl: (await infrastructure()).databaseUrl,
      poolMax: 1,
      acquireTimeoutMs: 300,
      entities: [],
    });
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding = () => {};
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = busy.em.fork().transactional(async (em) => {
      await em.execute('select 1');
      holding();
      await released;
    });
    try {
      await held;
      // Without the bound this waits for as long as the holder holds: forever, here.
      const outcome = await Promise.race([
        busy.em
          .fork()
          .execute('select 1')
          .then(
            () => 'a second connection was handed out by a pool of one',
            (caught: unknown) => caught,
          ),
        setTimeout(10_000, 'still waiting for a connection after 10 s'),
      ]);
      expect(isDatabaseUnavailable(outcome), String(outcome)).to.equal(true);
    } finally {
      release();
      await holder;
      await busy.close(true);
    }
  });

  it('When nothing listens where the database should be, then it is an outage', async () => {
    const port = await freePort();
    const error = await connectOrm({ databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, poolMax: 1, entities: [] })
      .then((unreachable) =>
        unreachable.em
          .fork()
          .execute('select 1')
          .finally(() => unreachable.close(true)),
      )
      .then(
        () => expect.fail('a query reached a server that does not exist'),
        (caught: unknown) => caught,
      );
    expect(isDatabaseUnavailable(error)).to.equal(true);
  });
});
