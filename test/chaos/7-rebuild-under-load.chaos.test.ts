import { expect } from 'chai';
import type { ProductCatalogCache } from '../../src/queries/product-catalog/product-catalog.cache.js';
import { createProjections } from '../../src/queries/read-models.js';
import { eventually } from '../support/http.js';
import { call, CommandLoad, openScenario, seconds, settle, type Scenario, expectNothingLostOrDoubled } from './harness.js';
import { report } from './report.js';

/**
 * Every read model (src/queries/read-models.ts) and the tables it owns, so a new one is rebuilt and
 * compared too. Only names and tables are read: no adapter is needed.
 */
const PROJECTIONS = Object.values(createProjections({ catalogCache: {} as ProductCatalogCache }));
const REBUILT = PROJECTIONS.map((projection) => projection.name);
const TABLES = PROJECTIONS.flatMap((projection) => projection.tables);

describe('Chaos 7: projections rebuilt from scratch while commands keep arriving', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  before(async () => {
    scenario = await openScenario('rebuild-under-load');
  });
  after(() => scenario?.close());

  /** One checksum over the read-model tables, row order fixed. */
  async function checksum(): Promise<string> {
    const tables = TABLES.map((table) => `(select coalesce(string_agg(t::text, '|' order by t::text), '') from ${table} t)`);
    const { rows } = await scenario.db.query<{ sum: string }>(`select md5(${tables.join(' || ')}) as sum`);
    return rows[0]!.sum;
  }

  async function rebuild(name: string): Promise<void> {
    const started = await call(scenario.api.url, `/v1/admin/projections/${name}/rebuild`, scenario.operatorToken, {
      method: 'POST',
    });
    expect(started.status, JSON.stringify(started.body)).to.equal(202);
    await eventually(
      async () =>
        (await call(scenario.api.url, `/v1/admin/projections/${name}/rebuild`, scenario.operatorToken)).body?.finishedAt,
      120_000,
      `the rebuild of ${name}`,
    );
  }

  it('When read models are rebuilt under load, then once the load stops they equal a rebuild from the event log at rest', async () => {
    await scenario.start('worker');
    const load = new CommandLoad(scenario, { target: () => scenario.api.url });
    await eventually(async () => load.accepted.length >= 100, 120_000, 'a history to rebuild');
    const rebuiltFrom = load.sent.length;
    const started = Date.now();
    await Promise.all(REBUILT.map(rebuild));
    const rebuildTook = Date.now() - started;
    const duringRebuild = load.acceptedSince(rebuiltFrom);
    const after = load.sent.length;
    await eventually(async () => load.acceptedSince(after) >= 20, 60_000, 'load after the rebuild');
    await load.stop();

    const outcome = await settle(scenario, load);
    const underLoad = await checksum();
    await Promise.all(REBUILT.map(rebuild));
    const atRest = await checksum();
    report({
      scenario: '7 Read models rebuilt from scratch under load',
      ...outcome,
      recovery: seconds(rebuildTook),
      notes: `${REBUILT.join(', ')} rebuilt in ${seconds(rebuildTook)} while ${duringRebuild} commands were accepted; checksum after load ${underLoad.slice(0, 8)} ${underLoad === atRest ? '=' : '≠'} rebuild at rest ${atRest.slice(0, 8)}`,
    });
    expect(underLoad).to.equal(atRest);
    expectNothingLostOrDoubled(outcome);
  });
});
