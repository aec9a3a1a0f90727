import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { resealSecrets } from '../../src/commands/shared/reseal-secrets.js';
import { compose, type Services } from '../../src/composition-root.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { SecretBox, type SecretKey } from '../../src/platform/secret-box.js';
import { principal, rows } from '../support/fixtures.js';
import { runToEnd } from '../support/processes.js';
import { startTestService, type TestService } from '../support/test-service.js';

const key = (id: string): SecretKey => ({ id, key: randomBytes(32) });
const keySpec = (...keys: SecretKey[]) => keys.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(',');

/** `npm run ops -- reseal-secrets` as an operator runs it, with the rotated key list. */
function resealCommand(service: TestService, keys: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runToEnd('src/ops/cli.ts', ['reseal-secrets'], {
    DATABASE_URL: service.config.DATABASE_URL,
    REDIS_URL: service.config.REDIS_URL,
    QUEUE_PREFIX: service.config.QUEUE_PREFIX,
    SECRET_ENCRYPTION_KEYS: keys,
  });
}

describe('Key rotation: re-sealing stored secrets (`npm run ops -- reseal-secrets`)', function () {
  this.timeout(60_000);
  const oldKey = key('old');
  const newKey = key('new');
  let service: TestService;
  let tenants = 0;

  before(async () => {
    // The service as it ran before the rotation: everything it stores is sealed with the old key.
    service = await startTestService({
      api: false,
      env: { SECRET_ENCRYPTION_KEYS: keySpec(oldKey), WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
    });
  });
  after(() => service?.stop());

  /** Services on the same database and prefix with another key list (a pod after the rollout). */
  async function servicesWith(keys: string): Promise<Services> {
    const config = loadConfig({ ...configSource(service), SECRET_ENCRYPTION_KEYS: keys });
    return compose(config, { logger: createLogger({ level: 'error', format: 'json', service: 'test' }) });
  }

  async function subscribeSome(count: number) {
    const tenant = `rotation-${++tenants}`;
    const admin = principal('root', tenant, ['admin']);
    const body = { url: 'http://127.0.0.1:9/hooks', eventTypes: ['order.paid' as const] };
    const idempotency = { key: `subscribe-${tenant}`, requestHash: 'hash-of-the-request' };
    const first = await service.services.commands.subscribeWebhook.handle(admin, body, { idempotency });
    const others = [];
    for (let i = 1; i < count; i++) others.push(await service.services.commands.subscribeWebhook.handle(admin, body));
    return { tenant, admin, body, idempotency, first, subscriptions: [first, ...others] };
  }

  const storedSecrets = (tenant: string) =>
    rows<{ id: string; secret: string }>(service.services, 'select id, secret from webhook_subscriptions where tenant_id = ?', [
      tenant,
    ]);
  const storedReply = async (tenant: string, idempotencyKey: string) =>
    (
      await rows<{ sealed: string }>(
        service.services,
        `select response_body->>'sealed' as sealed from idempotency_keys where tenant_id = ? and key = ?`,
        [tenant, idempotencyKey],
      )
    )[0]!.sealed;

  it('When the command runs with a new key first, then every stored secret and reply opens with the new key alone, and a second run changes nothing', async () => {
    const { tenant, admin, body, idempotency, first, subscriptions } = await subscribeSome(3);
    expect((await storedSecrets(tenant)).every((row) => row.secret.startsWith('sealed:v1:old:'))).to.equal(true);

    const run = await resealCommand(service, keySpec(newKey, oldKey));

    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/re-sealed 3 webhook secret\(s\) and 1 idempotent reply\(ies\) with key new/);
    const onlyNew = new SecretBox([newKey]);
    const stored = await storedSecrets(tenant);
    expect(stored).to.have.length(3);
    for (const row of stored) {
      expect(row.secret).to.match(/^sealed:v1:new:/);
      const expected = subscriptions.find((s) => s.aggregateId === row.id)!.secret;
      expect(onlyNew.open(row.secret, `webhook-secret:${row.id}`)).to.equal(expected);
    }
    const reply = await storedReply(tenant, idempotency.key);
    expect(reply).to.match(/^sealed:v1:new:/);
    expect(
      JSON.parse(onlyNew.open(reply, `idempotency-reply:${JSON.stringify([tenant, 'root', idempotency.key])}`)),
    ).to.deep.equal(first);

    // After the old key is dropped, a replay still returns the secret a client lost.
    const rotated = await servicesWith(keySpec(newKey));
    try {
      const replay = await rotated.commands.subscribeWebhook.handle(admin, body, { idempotency });
      expect(replay.secret).to.equal(first.secret);
    } finally {
      await rotated.close();
    }

    const again = await resealCommand(service, keySpec(newKey, oldKey));
    expect(again.status, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/re-sealed 0 webhook secret\(s\) and 0 idempotent reply\(ies\)/);
    expect(await storedSecrets(tenant)).to.deep.equal(stored);
    expect(await storedReply(tenant, idempotency.key)).to.equal(reply);
  });

  it('When two re-seals race each other and the service keeps replaying, then every row is re-sealed exactly once and still opens', async () => {
    const { tenant, admin, body, idempotency, first } = await subscribeSome(12);
    const pod = await servicesWith(keySpec(newKey, oldKey));
    try {
      const box = new SecretBox([newKey, oldKey]);
      const [a, b, replay] = await Promise.all([
        resealSecrets(pod.orm, box),
        resealSecrets(pod.orm, box),
        pod.commands.subscribeWebhook.handle(admin, body, { idempotency }),
      ]);

      expect(replay.secret).to.equal(first.secret);
      expect(a.webhookSecrets.resealed + b.webhookSecrets.resealed).to.equal(12);
      expect(a.idempotentReplies.resealed + b.idempotentReplies.resealed).to.equal(1);
      const onlyNew = new SecretBox([newKey]);
      for (const row of await storedSecrets(tenant))
        expect(() => onlyNew.open(row.secret, `webhook-secret:${row.id}`)).not.to.throw();
    } finally {
      await pod.close();
    }
  });

  it('When a stored value opens with no configured key, then the command names it, leaves it unchanged and exits non-zero', async () => {
    const { tenant } = await subscribeSome(1);
    const [row] = await storedSecrets(tenant);
    const lost = new SecretBox([key('lost')]).seal('whsec_lost', `webhook-secret:${row!.id}`);
    await rows(service.services, 'update webhook_subscriptions set secret = ? where id = ?', [lost, row!.id]);

    const run = await resealCommand(service, keySpec(newKey, oldKey));

    expect(run.status).to.equal(1);
    expect(run.stderr).to.include(`webhook subscription ${row!.id}`);
    expect((await storedSecrets(tenant))[0]!.secret).to.equal(lost);
  });
});

/** The environment the test service was configured from, as strings for loadConfig. */
function configSource(service: TestService): Record<string, string> {
  const { DATABASE_URL, REDIS_URL, QUEUE_PREFIX } = service.config;
  return {
    NODE_ENV: 'test',
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX,
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  };
}
