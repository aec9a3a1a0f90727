import { Migration } from '@mikro-orm/migrations';

/**
 * Events found by aggregate and version: read-your-writes waits for every event of the aggregates
 * a command touched up to the command's own versions (src/queries/shared/consistency.ts), so a
 * read consistent with a command also reflects the events that command was based on.
 */
export class Migration20261130020000_outbox_events_by_aggregate extends Migration {
  override name = 'Migration20261130020000_outbox_events_by_aggregate';

  override up(): void {
    this.addSql('create index outbox_events_aggregate on outbox_events (aggregate_type, aggregate_id, aggregate_version)');
  }

  override down(): void {
    this.addSql('drop index outbox_events_aggregate');
  }
}
