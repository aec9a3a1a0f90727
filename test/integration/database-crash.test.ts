import { expect } from 'chai';
import pg from 'pg';
import { connectOrm, type Orm } from '../../src/platform/db/orm.js';
import { eventually } from '../support/http.js';
import { missingBinaries, PrivatePostgres } from '../support/private-servers.js';

/**
 * A private PostgreSQL crashed (`pg_ctl stop -m immediate`) while every pooled connection is inside
 * a transaction: the ORM's pool must come back once the server does (kysely-org/kysely#1990 leaked
 * such connections, and every later query waited forever).
 */
describe('Database crash: a pool whose transactions died with the server recovers', function () {
  this.timeout(180_000);
  let server: PrivatePostgres;
  let orm: Orm;

  before(async function () {
    const missing = await missingBinaries('initdb', 'pg_ctl');
    if (missing.length) {
      console.log(`    skipped: the PostgreSQL server binaries ${missing.join(', ')} are not on PATH`);
      this.skip();
    }
    server = await PrivatePostgres.start();
    orm = await connectOrm({ databaseUrl: server.url(), poolMax: 2, entities: [] });
  });
  after(async () => {
    await orm?.close(true).catch(() => undefined);
    await server?.destroy();
  });

  it('When PostgreSQL crashes mid-transaction on every pooled connection and starts again, then new transactions run without a restart', async () => {
    const sleeping = [1, 2].map(() =>
      orm.em
        .fork()
        .transactional((em) => em.execute('select pg_sleep(600)'))
        .then(
          () => undefined,
          (error: unknown) => error,
        ),
    );
    await eventually(async () => (await sleepers(server)) === 2, 30_000, 'both transactions running on the server');

    await server.stopServer('immediate');
    const failures = await Promise.all(sleeping);
    await server.startServer();

    expect(failures.every((failure) => failure instanceof Error)).to.equal(true);
    const answer = await within(
      15_000,
      orm.em.fork().transactional((em) => em.execute<{ one: number }[]>('select 1 as one')),
      'a transaction after the restart (the pool kept its dead connections)',
    );
    expect(answer).to.deep.equal([{ one: 1 }]);
  });
});

async function sleepers(server: PrivatePostgres): Promise<number> {
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where query = 'select pg_sleep(600)'",
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
