import { Migration } from '@mikro-orm/migrations';

/**
 * An idempotency claim names its owner and the server run it was made under. Only the owner may
 * complete or release it (a retry that took the key over can no longer be overwritten or deleted
 * by the first request), and a claim made before PostgreSQL last started is orphaned at once: the
 * command transaction that would have completed it died with the server.
 */
export class Migration20261130000000_idempotency_claim_owner extends Migration {
  override name = 'Migration20261130000000_idempotency_claim_owner';

  override up(): void {
    this.addSql('alter table idempotency_keys add column claim_id uuid, add column claimed_under timestamptz');
  }

  override down(): void {
    this.addSql('alter table idempotency_keys drop column claim_id, drop column claimed_under');
  }
}
