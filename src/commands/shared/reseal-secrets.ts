import type { Orm } from '../../platform/db/orm.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { webhookSecretContext } from '../webhooks/subscribe-webhook.handler.js';
import { idempotencyReplyContext } from './idempotency.js';

/** What one re-seal pass did, per kind of stored secret. */
export interface ResealReport {
  keyId: string;
  webhookSecrets: ResealCount;
  idempotentReplies: ResealCount;
}

export interface ResealCount {
  /** Re-sealed with the current key by this pass. */
  resealed: number;
  /** Rows that no configured key opens (their key was dropped, or they were never sealed): named, never changed. */
  unopenable: string[];
}

interface StoredSecret {
  /** Names the row in the report. */
  label: string;
  sealed: string;
  context: string;
  /** Replaces the value only if the row still holds `sealed` (compare-and-set); true when it did. */
  replace(resealed: string): Promise<boolean>;
}

const BATCH = 200;

/**
 * Key rotation, step 2 (docs/security.md#secrets-at-rest): every stored webhook signing secret and
 * every live idempotent reply that is not sealed with the current (first) key of
 * SECRET_ENCRYPTION_KEYS is opened with the key that sealed it and sealed again with the current
 * one. Safe while the service runs: each row is replaced only if it still holds the value read
 * (a row deleted or re-sealed meanwhile is left alone), rows are walked by key so the pass ends,
 * and readers open old and new values alike as long as every process knows both keys.
 * Idempotent: a second pass finds nothing to do.
 */
export async function resealSecrets(orm: Orm, box: SecretBox): Promise<ResealReport> {
  return {
    keyId: box.currentKeyId,
    webhookSecrets: await resealEach(box, webhookSecrets(orm, box.currentPrefix)),
    idempotentReplies: await resealEach(box, idempotentReplies(orm, box.currentPrefix)),
  };
}

async function resealEach(box: SecretBox, stored: AsyncIterable<StoredSecret>): Promise<ResealCount> {
  const count: ResealCount = { resealed: 0, unopenable: [] };
  for await (const secret of stored) {
    let plaintext: string;
    try {
      plaintext = box.open(secret.sealed, secret.context);
    } catch {
      count.unopenable.push(secret.label);
      continue;
    }
    if (await secret.replace(box.seal(plaintext, secret.context))) count.resealed++;
  }
  return count;
}

async function* webhookSecrets(orm: Orm, currentPrefix: string): AsyncIterable<StoredSecret> {
  const em = orm.em.fork();
  let after = '';
  for (;;) {
    const batch = await em.execute<{ id: string; secret: string }[]>(
      `select id::text as id, secret from webhook_subscriptions
       where id::text > ? and left(secret, ?) <> ? order by id::text limit ?`,
      [after, currentPrefix.length, currentPrefix, BATCH],
    );
    for (const row of batch) {
      yield {
        label: `webhook subscription ${row.id}`,
        sealed: row.secret,
        context: webhookSecretContext(row.id),
        replace: async (resealed) =>
          (
            await em.execute(`update webhook_subscriptions set secret = ? where id = ? and secret = ? returning id`, [
              resealed,
              row.id,
              row.secret,
            ])
          ).length === 1,
      };
    }
    if (batch.length < BATCH) return;
    after = batch.at(-1)!.id;
  }
}

/** Completed, unexpired keys only: an expired key counts as absent and is never opened again. */
async function* idempotentReplies(orm: Orm, currentPrefix: string): AsyncIterable<StoredSecret> {
  const em = orm.em.fork();
  let after: [string, string, string] = ['', '', ''];
  for (;;) {
    const batch = await em.execute<{ tenant_id: string; principal_id: string; key: string; sealed: string }[]>(
      `select tenant_id, principal_id, key, response_body->>'sealed' as sealed from idempotency_keys
       where status = 'completed' and expires_at > now() and (tenant_id, principal_id, key) > (?, ?, ?)
         and left(coalesce(response_body->>'sealed', ''), ?) <> ?
       order by tenant_id, principal_id, key limit ?`,
      [...after, currentPrefix.length, currentPrefix, BATCH],
    );
    for (const row of batch) {
      const claim = { tenantId: row.tenant_id, principalId: row.principal_id, key: row.key };
      yield {
        label: `idempotency key ${JSON.stringify([row.tenant_id, row.principal_id, row.key])}`,
        sealed: row.sealed ?? '',
        context: idempotencyReplyContext(claim),
        replace: async (resealed) =>
          (
            await em.execute(
              `update idempotency_keys set response_body = ?::jsonb
               where tenant_id = ? and principal_id = ? and key = ? and response_body->>'sealed' = ? returning key`,
              [JSON.stringify({ sealed: resealed }), row.tenant_id, row.principal_id, row.key, row.sealed],
            )
          ).length === 1,
      };
    }
    if (batch.length < BATCH) return;
    const last = batch.at(-1)!;
    after = [last.tenant_id, last.principal_id, last.key];
  }
}
