import { expect } from 'chai';
import pg from 'pg';
import { NOTIFIER_SESSION, Notifier } from '../../src/platform/db/notifier.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';

/** NOTIFY after commit, off the committing transaction (src/platform/db/notifier.ts). */
describe('Notifier: NOTIFY on a session of its own, after the commit (PostgreSQL)', () => {
  let environment: TestEnvironment;
  let notifier: Notifier;
  let listener: pg.Client;
  let heard: string[];
  const logger = createLogger({ level: 'error', format: 'json', service: 'test' });

  beforeEach(async () => {
    environment = await createTestEnvironment();
    notifier = new Notifier({ databaseUrl: environment.config.DATABASE_URL }, logger);
    listener = new pg.Client({ connectionString: environment.config.DATABASE_URL });
    await listener.connect();
    heard = [];
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query('listen notifier_test');
  });
  afterEach(async () => {
    await notifier.close();
    await listener.end();
    await environment.destroy();
  });

  const eventually = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('When many NOTIFYs are asked for while one is under way, then each payload is delivered and the waiting ones go out together', async () => {
    for (let i = 0; i < 50; i++) notifier.notify('notifier_test', String(i % 10));
    await notifier.idle();
    await eventually(() => new Set(heard).size === 10, 'ten payloads');

    // The first goes out at once; the other 49 wait for it and go out as the 10 distinct ones.
    expect(heard.length).to.be.at.most(11);
  });

  it("When the notifier's session dies, then what it was asked meanwhile is sent on a new session", async () => {
    notifier.notify('notifier_test', 'first');
    await eventually(() => heard.includes('first'), 'the first payload');
    await listener.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()',
      [NOTIFIER_SESSION],
    );

    notifier.notify('notifier_test', 'second');

    await eventually(() => heard.includes('second'), 'the payload asked for after the session died');
    const { rows } = await listener.query(
      'select 1 from pg_stat_activity where application_name = $1 and datname = current_database()',
      [NOTIFIER_SESSION],
    );
    expect(rows).to.have.length(1);
  });
});
