import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../../platform/db/orm.js';
import { AppError } from '../../platform/errors.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { Principal } from '../../policies/principal.js';

/** What the caller sent: its key, and a hash of the request it names (method, path, body). */
export interface IdempotencyRequest {
  key: string;
  requestHash: string;
}

export interface IdempotencyClaim extends IdempotencyRequest {
  tenantId: string;
  principalId: string;
  /** This claim's own id: only its owner completes or releases the key. */
  claimId: string;
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('unprocessable', 'idempotency.key-reused', 'This Idempotency-Key was used with a different request');
  }
}

export class IdempotencyInFlightError extends AppError {
  constructor() {
    super('conflict', 'idempotency.in-flight', 'A request with this Idempotency-Key is still being processed; retry later');
  }
}

export class IdempotencyClaimLostError extends AppError {
  constructor() {
    super(
      'conflict',
      'idempotency.claim-lost',
      'A retry with this Idempotency-Key took the request over while it ran; this attempt was rolled back',
    );
  }
}

interface Sealed {
  sealed: string;
}

/** Binds a sealed reply to the key it answers: copied to another key, it does not open. */
export const idempotencyReplyContext = (claim: Pick<IdempotencyClaim, 'tenantId' | 'principalId' | 'key'>) =>
  `idempotency-reply:${JSON.stringify([claim.tenantId, claim.principalId, claim.key])}`;

interface KeyRow {
  request_hash: string;
  status: 'in_flight' | 'completed';
  response_body: unknown;
  claim_id: string | null;
  /** In flight past the lease, or claimed before PostgreSQL last started: its owner cannot complete it. */
  abandoned: boolean;
  expired: boolean;
}

/**
 * Idempotency keys, scoped to tenant + principal. A key is claimed (in flight) before the
 * command runs, completed inside the command's own transaction with the result to replay, and
 * released if the command fails, so "done" and "remembered" can never disagree. A claim belongs
 * to the request that made it: a retry may take over an abandoned one (past its lease, or made
 * before a PostgreSQL restart killed the transaction that would have completed it), and the first
 * request can then neither complete nor release it (its transaction rolls back). The result is
 * stored sealed (a reply may carry a webhook's signing secret, which a client that lost the first
 * answer still needs): `{ "sealed": "<AES-GCM>" }`, bound to the key it answers.
 */
export class IdempotencyStore {
  constructor(
    private readonly orm: Orm,
    private readonly retentionMs: number,
    private readonly secrets: SecretBox,
    /** An in-flight claim older than this is taken over (its process died). */
    private readonly leaseMs = 60_000,
  ) {}

  /** Claims the key, or returns the first response's result for a replay. */
  async claim<T>(principal: Principal, request: IdempotencyRequest): Promise<{ claim: IdempotencyClaim } | { replay: T }> {
    const claim = { ...request, tenantId: principal.tenantId, principalId: principal.id, claimId: randomUUID() };
    const em = this.orm.em.fork();
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await em.execute(
        `insert into idempotency_keys
           (tenant_id, principal_id, key, request_hash, status, claim_id, claimed_under, created_at, expires_at)
         values (?, ?, ?, ?, 'in_flight', ?, pg_postmaster_start_time(), now(), now() + make_interval(secs => ?))
         on conflict do nothing returning key`,
        [claim.tenantId, claim.principalId, claim.key, claim.requestHash, claim.claimId, this.retentionMs / 1000],
      );
      if (inserted.length) return { claim };

      const [row] = await em.execute<KeyRow[]>(
        `select request_hash, status, response_body, claim_id, expires_at < now() as expired,
                (created_at < now() - make_interval(secs => ?) or claimed_under < pg_postmaster_start_time()) as abandoned
         from idempotency_keys where tenant_id = ? and principal_id = ? and key = ?`,
        [this.leaseMs / 1000, claim.tenantId, claim.principalId, claim.key],
      );
      if (!row) continue; // released meanwhile: claim again
      // A key past its retention counts as absent even before the purge removes it.
      if (row.expired) {
        await this.forgetExpired(claim);
        continue;
      }
      if (row.status === 'in_flight' && row.abandoned) {
        await this.release({ ...claim, claimId: row.claim_id });
        continue;
      }
      if (row.request_hash !== claim.requestHash) throw new IdempotencyKeyReusedError();
      if (row.status === 'in_flight') throw new IdempotencyInFlightError();
      return { replay: JSON.parse(this.secrets.open((row.response_body as Sealed).sealed, idempotencyReplyContext(claim))) as T };
    }
    throw new IdempotencyInFlightError();
  }

  /**
   * Inside the command's transaction: remember the result to replay. Throws (so the command rolls
   * back) when the claim is no longer this request's: a retry took it over meanwhile.
   */
  async complete(em: EntityManager, claim: IdempotencyClaim, result: unknown): Promise<void> {
    const completed = await em.execute(
      `update idempotency_keys set status = 'completed', response_body = ?::jsonb
       where tenant_id = ? and principal_id = ? and key = ? and claim_id = ? and status = 'in_flight'
       returning key`,
      [
        JSON.stringify({ sealed: this.secrets.seal(JSON.stringify(result), idempotencyReplyContext(claim)) }),
        claim.tenantId,
        claim.principalId,
        claim.key,
        claim.claimId,
      ],
    );
    if (completed.length !== 1) throw new IdempotencyClaimLostError();
  }

  /**
   * The command failed and changed nothing: forget the key so the request can be retried. Only
   * this claim (`claimId`; `null` for a claim from before claims had owners) is released.
   */
  async release(claim: Omit<IdempotencyClaim, 'claimId'> & { claimId: string | null }): Promise<void> {
    await this.orm.em.fork().execute(
      `delete from idempotency_keys
       where tenant_id = ? and principal_id = ? and key = ? and claim_id is not distinct from ? and status <> 'completed'`,
      [claim.tenantId, claim.principalId, claim.key, claim.claimId],
    );
  }

  private async forgetExpired(claim: IdempotencyClaim): Promise<void> {
    await this.orm.em
      .fork()
      .execute(`delete from idempotency_keys where tenant_id = ? and principal_id = ? and key = ? and expires_at < now()`, [
        claim.tenantId,
        claim.principalId,
        claim.key,
      ]);
  }

  /** Housekeeping: drop keys past their retention. */
  async purgeExpired(): Promise<number> {
    const deleted = await this.orm.em.fork().execute('delete from idempotency_keys where expires_at < now() returning key');
    return deleted.length;
  }
}
