import { Migration } from '@mikro-orm/migrations';

/** Webhook subscriptions are versioned like every aggregate: their events carry the version. */
export class Migration20261129230000_webhook_version extends Migration {
  override name = 'Migration20261129230000_webhook_version';

  override up(): void {
    this.addSql('alter table webhook_subscriptions add column version integer not null default 1');
    this.addSql('alter table webhook_subscriptions alter column version drop default');
  }

  override down(): void {
    this.addSql('alter table webhook_subscriptions drop column version');
  }
}
