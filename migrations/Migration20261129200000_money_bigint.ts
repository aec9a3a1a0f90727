import { Migration } from '@mikro-orm/migrations';

/**
 * Order totals as bigint: the domain allows an order of up to MAX_ORDER_TOTAL_CENTS
 * (10 000 000 000 minor units), beyond a 32-bit integer. The check repeats the domain's bound so
 * a row that slipped past it fails loudly instead of overflowing a sum later.
 */
export class Migration20261129200000_money_bigint extends Migration {
  override name = 'Migration20261129200000_money_bigint';

  override up(): void {
    this.addSql(`
      alter table orders alter column total_cents type bigint,
        add constraint orders_total_cents_range check (total_cents between 0 and 10000000000);
      alter table order_view alter column total_cents type bigint;
    `);
  }

  override down(): void {
    this.addSql(`
      alter table orders drop constraint orders_total_cents_range, alter column total_cents type integer;
      alter table order_view alter column total_cents type integer;
    `);
  }
}
