import { expect } from 'chai';
import { NotFoundError } from '../../src/platform/errors.js';
import { principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('Deleting a webhook subscription (PostgreSQL): tenant-scoped, locked, recorded', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false, env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  });
  after(() => service.stop());

  const admin = principal('root', 'acme', ['admin']);
  const subscribe = () =>
    service.services.commands.subscribeWebhook.handle(admin, { url: 'http://127.0.0.1:9/hooks', eventTypes: ['order.paid'] });
  const deletedEvents = (webhookId: string) =>
    rows<{ aggregate_version: number }>(
      service.services,
      "select aggregate_version from outbox_events where aggregate_id = ? and type = 'WebhookDeleted'",
      [webhookId],
    );
  const lockWaiters = async () =>
    (
      await rows<{ n: number }>(
        service.services,
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      )
    )[0]!.n;

  it('When two deletes of one subscription overlap, then the second waits for the first and finds nothing: one WebhookDeleted, one 404', async () => {
    const { aggregateId: webhookId } = await subscribe();
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstInside!: () => void;
    const firstIsInside = new Promise<void>((resolve) => (firstInside = resolve));

    // The first delete stops just before its commit, holding whatever it locked.
    const first = service.services.commands.deleteWebhook.handle(
      admin,
      { webhookId },
      {
        beforeCommit: async () => {
          firstInside();
          await firstHolds;
        },
      },
    );
    await firstIsInside;
    const second = service.services.commands.deleteWebhook.handle(admin, { webhookId }).then(
      () => 'accepted',
      (error: unknown) => (error instanceof NotFoundError ? 'not found' : error),
    );
    await eventually(async () => (await lockWaiters()) > 0 || undefined, 5_000, 'the second delete to wait for a lock');
    releaseFirst();

    expect((await first).aggregateId).to.equal(webhookId);
    expect(await second).to.equal('not found');
    expect(await deletedEvents(webhookId)).to.deep.equal([{ aggregate_version: 2 }]);
    expect(await rows(service.services, 'select 1 from webhook_subscriptions where id = ?', [webhookId])).to.deep.equal([]);
  });

  it('When an admin of another tenant deletes the subscription, then it is not found and nothing is written', async () => {
    const { aggregateId: webhookId } = await subscribe();
    const commandsBefore = await rows(service.services, 'select count(*)::int as n from command_log');

    const attempt = service.services.commands.deleteWebhook.handle(principal('root', 'globex', ['admin']), { webhookId });

    await attempt.then(
      () => expect.fail('deleted across tenants'),
      (error: unknown) => expect(error).to.be.instanceOf(NotFoundError),
    );
    expect(await rows(service.services, 'select version from webhook_subscriptions where id = ?', [webhookId])).to.deep.equal([
      { version: 1 },
    ]);
    expect(await deletedEvents(webhookId)).to.deep.equal([]);
    expect(await rows(service.services, 'select count(*)::int as n from command_log')).to.deep.equal(commandsBefore);
  });
});
