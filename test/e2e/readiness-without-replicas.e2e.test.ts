import { expect } from 'chai';
import { withDatabase } from '../../src/platform/db/database-admin.js';
import { http } from '../support/http.js';
import { infrastructure } from '../support/infrastructure.js';
import { freePort } from '../support/ports.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { migrations } from '../../migrations/index.js';

describe('Readiness without read replicas (DATABASE_READ_URL unreachable)', function () {
  this.timeout(30_000);
  let service: TestService;

  before(async () => {
    const { databaseUrl } = await infrastructure();
    const goneReplica = withDatabase(databaseUrl, 'app').replace(/:\/\/([^@/]*@)?[^/]+/, `://$1127.0.0.1:${await freePort()}`);
    service = await startTestService({ env: { DATABASE_READ_URL: goneReplica } });
  });
  after(async () => {
    await service.stop();
  });

  it('When the replicas are gone, then the API stays ready: readiness asks the primary only', async () => {
    // Act
    const ready = await http(`${service.url}/health/ready`);

    // Assert
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    expect(ready.body.checks.database).to.equal('ok');
  });

  it('When a migration is not applied on the primary, then readiness names it although the replica cannot be asked', async () => {
    // Arrange
    const [latest] = migrations.slice(-1);
    await service.services.orm.em
      .getConnection('write')
      .execute('delete from mikro_orm_migrations where name = ?', [latest!.name]);

    // Act
    const ready = await http(`${service.url}/health/ready`);

    // Assert
    expect(ready.status).to.equal(503);
    expect(ready.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(ready.headers.get('retry-after')).to.equal('1');
    expect(ready.body).to.include({ type: '/problems/service.not-ready', status: 503 });
    expect(ready.body.checks.database).to.equal(`pending migrations: ${latest!.name}`);
  });
});
