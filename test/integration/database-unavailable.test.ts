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
