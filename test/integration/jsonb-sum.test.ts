import { expect } from 'chai';
import { rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * `jsonb_sum` merges customer_summary's per-status counts and per-currency values with each
 * event's delta (src/queries/customer-summary/customer-summary.projection.ts).
 */
describe('jsonb_sum: the counting projections merge deltas with it (PostgreSQL)', () => {
  let service: TestService;
  before(async function () {
    this.timeout(60_000);
    service = await startTestService({ api: false });
  });
  after(async () => service?.stop());

  const sum = async (a: string | null, b: string | null) =>
    (await rows<{ total: unknown }>(service.services, 'select jsonb_sum(?::jsonb, ?::jsonb) as total', [a, b]))[0]!.total;

  it('When a delta is added, then keys of either side are kept and shared keys are summed', async () => {
    expect(await sum('{"placed": 3, "paid": 1}', '{"placed": -1, "paid": 1}')).to.deep.equal({ placed: 2, paid: 2 });
    expect(await sum('{"EUR": 1250}', '{"USD": 500}')).to.deep.equal({ EUR: 1250, USD: 500 });
    expect(await sum('{"placed": 1}', '{"placed": -1}')).to.deep.equal({ placed: 0 });
  });

  it('When either side is empty or null, then the other is the total, and two empty sides are {}', async () => {
    expect(await sum('{"EUR": 1250}', '{}')).to.deep.equal({ EUR: 1250 });
    expect(await sum(null, '{"placed": 1}')).to.deep.equal({ placed: 1 });
    expect(await sum('{"placed": 1}', null)).to.deep.equal({ placed: 1 });
    expect(await sum('{}', '{}')).to.deep.equal({});
    expect(await sum(null, null)).to.deep.equal({});
  });

  it('When amounts exceed 32 bits, then they are summed exactly (numeric, not integer)', async () => {
    expect(await sum('{"EUR": 9007199254740000}', '{"EUR": 991}')).to.deep.equal({ EUR: 9007199254740991 });
  });

  it('When called, then it is PL/pgSQL, whose plan PostgreSQL keeps per session (a SQL body that aggregates is planned on every call)', async () => {
    const [found] = await rows<{ language: string }>(
      service.services,
      `select l.lanname as language from pg_proc p join pg_language l on l.oid = p.prolang where p.proname = 'jsonb_sum'`,
    );
    expect(found?.language).to.equal('plpgsql');
  });
});
