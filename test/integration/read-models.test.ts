import { expect } from 'chai';
import { commandEntities } from '../../src/commands/index.js';
import { rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/** Tables of the machinery (the event log, the inbox, ...) rather than of an aggregate or a read model. */
const MACHINERY = ['mikro_orm_migrations', 'outbox_events', 'processed_events', 'idempotency_keys'];

describe('Read models: every table the migrations create is owned (PostgreSQL)', function () {
  this.timeout(60_000);
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false });
  });
  after(() => service.stop());

  it('When the schema is migrated, then every table belongs to the write side, the machinery or a declared read model (so rebuilds cover it)', async () => {
    const { orm, projections } = service.services;
    const writeSide = commandEntities.map((entity) => orm.getMetadata().getByClassName(entity.meta.className).tableName);
    const readSide = Object.values(projections).flatMap((projection) => projection.tables);
    const tables = await rows<{ name: string }>(
      service.services,
      "select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
    );
    const unowned = tables.map((table) => table.name).filter((name) => ![...MACHINERY, ...writeSide, ...readSide].includes(name));
    expect(unowned, 'tables no read model declares (src/queries/read-models.ts)').to.deep.equal([]);
    const missing = readSide.filter((table) => !tables.some((row) => row.name === table));
    expect(missing, 'tables a read model declares but no migration creates').to.deep.equal([]);
  });
});
