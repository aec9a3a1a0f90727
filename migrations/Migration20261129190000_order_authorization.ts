import { Migration } from '@mikro-orm/migrations';

/** Orders keep the provider's authorization id, so cancelling a paid order can refund against it. */
export class Migration20261129190000_order_authorization extends Migration {
  override name = 'Migration20261129190000_order_authorization';

  override up(): void {
    this.addSql('alter table orders add column authorization_id text');
  }

  override down(): void {
    this.addSql('alter table orders drop column authorization_id');
  }
}
