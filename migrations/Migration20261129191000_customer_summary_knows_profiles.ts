import { Migration } from '@mikro-orm/migrations';

/**
 * customer_summary now follows CustomerProfileChanged itself (a customer without orders has an
 * all-zero row) instead of reading order_view's customer_profile_view. Customers known so far only
 * by their profile get their row here; later profile events insert it in the projection.
 */
export class Migration20261129191000_customer_summary_knows_profiles extends Migration {
  override name = 'Migration20261129191000_customer_summary_knows_profiles';

  override up(): void {
    this.addSql(`
      insert into customer_summary (tenant_id, customer_id)
      select tenant_id, customer_id from customer_profile_view
      on conflict do nothing`);
  }

  override down(): void {
    this.addSql("delete from customer_summary where orders_count = 0 and last_order_id is null and lifetime_value = '{}'::jsonb");
  }
}
