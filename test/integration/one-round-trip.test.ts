import { expect } from 'chai';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { statementInOneRoundTrip, transactionInOneRoundTrip } from '../../src/platform/db/one-round-trip.js';
import { rows } from '../support/fixtures.js';
import { statementsDuring } from '../support/statements.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('transactionInOneRoundTrip: several statements, one transaction, one query (PostgreSQL)', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false });
    await rows(service.services, 'create table round_trip (id int primary key, note text)');
  });
  after(() => service.stop());
  beforeEach(() => rows(service.services, 'truncate round_trip'));

  const insert = (id: number, note: string) => ({
    sql: 'insert into round_trip (id, note) values (?, ?) returning id, note',
    params: [id, note],
  });

  it("When every statement succeeds, then they commit together in one query and each one's rows come back", async () => {
    const tricky = `it's a \\ "quote" ; commit; --`;
    let results: Array<Array<Record<string, unknown>>> = [];
    // The first run on a connection prepares the statement (one more round trip, once per connection).
    await transactionInOneRoundTrip(service.services.orm, [insert(0, 'warm')]);

    const sent = await statementsDuring(async () => {
      results = await transactionInOneRoundTrip(service.services.orm, [insert(1, 'one'), insert(2, tricky)]);
    });

    expect(sent).to.have.length(1);
    expect(results).to.deep.equal([[{ id: 1, note: 'one' }], [{ id: 2, note: tricky }]]);
    expect(await rows(service.services, 'select id, note from round_trip order by id')).to.deep.equal([
      { id: 0, note: 'warm' },
      { id: 1, note: 'one' },
      { id: 2, note: tricky },
    ]);
  });

  it('When a later statement fails, then none commits and the next transaction on the pool runs as usual', async () => {
    const error = await transactionInOneRoundTrip(service.services.orm, [insert(1, 'one'), insert(1, 'again')]).catch(
      (cause: Error & { code?: string }) => cause,
    );

    expect(error).to.have.property('code', '23505');
    expect(await rows(service.services, 'select id from round_trip')).to.deep.equal([]);
    // The pool hands out its most recently returned connection first: the one that failed.
    for (let id = 10; id < 15; id++) await transactionInOneRoundTrip(service.services.orm, [insert(id, 'next')]);
    expect(await rows(service.services, 'select count(*)::int as n from round_trip')).to.deep.equal([{ n: 5 }]);
  });

  /** The prepared statements of the connection the pool hands out next (the most recently returned one). */
  const preparedHere = async () =>
    (
      await transactionInOneRoundTrip(service.services.orm, [
        {
          sql: `select generic_plans::int, custom_plans::int from pg_prepared_statements where statement ~ '^prepare \\w+ as insert into round_trip'`,
          params: [],
        },
      ])
    )[0] as Array<{ generic_plans: number; custom_plans: number }>;

  it('When a statement runs again on a connection, then PostgreSQL executes the statement it prepared, planned once for every run after the fifth', async () => {
    for (let id = 1; id <= 10; id++) await transactionInOneRoundTrip(service.services.orm, [insert(id, `note ${id}`)]);

    const [prepared, ...others] = await preparedHere();
    expect(others, 'one prepared statement per text').to.deep.equal([]);
    expect(prepared!.generic_plans + prepared!.custom_plans).to.be.at.least(10);
    expect(prepared!.generic_plans, 'runs without planning').to.be.at.least(5);
    expect(await rows(service.services, 'select count(*)::int as n from round_trip')).to.deep.equal([{ n: 10 }]);
  });

  it('When the prepared statements were deallocated behind its back, then the transaction prepares them again and runs once', async () => {
    await transactionInOneRoundTrip(service.services.orm, [insert(1, 'one')]);
    await transactionInOneRoundTrip(service.services.orm, [{ sql: 'deallocate all', params: [] }]);

    await transactionInOneRoundTrip(service.services.orm, [insert(2, 'two')]);

    expect(await rows(service.services, 'select id from round_trip order by id')).to.deep.equal([{ id: 1 }, { id: 2 }]);
  });

  it('When PostgreSQL cannot prepare a statement, or a value is a list, then it runs with its values inlined', async () => {
    const results = await transactionInOneRoundTrip(service.services.orm, [
      // "could not determine data type of parameter $1"
      { sql: 'select ? is null as missing', params: [null] },
      { sql: 'select sum(n)::int as total from unnest(array[?]::int[]) as n', params: [[1, 2, 3]] },
    ]);

    expect(results).to.deep.equal([[{ missing: true }], [{ total: 6 }]]);
  });

  it('When a statement runs alone, then it is autocommitted from its prepared statement, and its errors are MikroORM exceptions as em.execute throws them', async () => {
    for (let id = 1; id <= 6; id++) await statementInOneRoundTrip(service.services.orm, insert(id, 'alone'));

    const error = await statementInOneRoundTrip(service.services.orm, insert(1, 'again')).catch((cause: Error) => cause);

    expect(error).to.be.instanceOf(UniqueConstraintViolationException);
    expect(await rows(service.services, 'select count(*)::int as n from round_trip')).to.deep.equal([{ n: 6 }]);
    const [prepared] = await preparedHere();
    expect(prepared!.generic_plans + prepared!.custom_plans).to.be.at.least(6);
  });
});
