import { expect } from 'chai';
import { transactionInOneRoundTrip } from '../../src/platform/db/one-round-trip.js';
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

    const sent = await statementsDuring(async () => {
      results = await transactionInOneRoundTrip(service.services.orm, [insert(1, 'one'), insert(2, tricky)]);
    });

    expect(sent).to.have.length(1);
    expect(results).to.deep.equal([[{ id: 1, note: 'one' }], [{ id: 2, note: tricky }]]);
    expect(await rows(service.services, 'select id, note from round_trip order by id')).to.deep.equal([
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
});
