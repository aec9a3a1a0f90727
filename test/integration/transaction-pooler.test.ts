import { expect } from 'chai';
import { dropDatabase } from '../../src/platform/db/database-admin.js';
import {
  sendsPreparedStatements,
  statementInOneRoundTrip,
  transactionInOneRoundTrip,
} from '../../src/platform/db/one-round-trip.js';
import { connectOrm, type Orm } from '../../src/platform/db/orm.js';
import { provisionDatabase, uniqueId } from '../support/database.js';
import { missingBinaries, PrivatePgBouncer } from '../support/private-servers.js';

/**
 * `k8s/` puts PgBouncer in transaction mode between the API and workers and PostgreSQL: each
 * transaction runs on whichever server session is free, so a statement prepared in one session is
 * missing from the next. The one-round-trip helpers must still run every statement.
 */
describe('Prepared statements behind a transaction pooler (PgBouncer in transaction mode)', function () {
  this.timeout(60_000);
  let bouncer: PrivatePgBouncer | undefined;
  let orm: Orm | undefined;
  let direct: string;

  before(async function () {
    const missing = await missingBinaries('pgbouncer');
    if (missing.length) {
      console.log('    skipped: pgbouncer is not on PATH (.ci/run installs it)');
      this.skip();
    }
    const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    const database = `test_pooler_${uniqueId()}`;
    direct = Object.assign(server, { pathname: `/${database}` }).toString();
    await provisionDatabase(direct);
    bouncer = await PrivatePgBouncer.start({ target: Number(server.port || 5432), serverSessions: 2 });
    orm = await connectOrm({ databaseUrl: bouncer.url(database), poolMax: 8, entities: [] });
    await orm.em.execute('create table pooled (id int primary key, note text)');
  });
  after(async () => {
    await orm?.close(true);
    await bouncer?.stop();
    if (direct) await dropDatabase(direct);
  });

  const insert = (id: number) => ({
    sql: 'insert into pooled (id, note) values (?, ?) returning id',
    params: [id, `note ${id}`],
  });

  it('When transactions and lone statements run through it, eight clients on two server sessions, then every one commits, and the pool stops preparing', async () => {
    let next = 0;
    // Rounds of concurrent calls until the pool has seen the pooler (the first round nearly always shows it).
    for (let round = 0; round < 5 && (await sendsPreparedStatements(orm!)); round++)
      await Promise.all(
        Array.from({ length: 40 }, () => {
          const id = next++;
          return id % 2 ? transactionInOneRoundTrip(orm!, [insert(id)]) : statementInOneRoundTrip(orm!, insert(id));
        }),
      );
    for (let again = 0; again < 20; again++) await transactionInOneRoundTrip(orm!, [insert(next++)]);

    expect(await sendsPreparedStatements(orm!)).to.equal(false);
    const [{ n }] = (await orm!.em.execute('select count(*)::int as n from pooled')) as [{ n: number }];
    expect(n).to.equal(next);
  });
});
