import { Migration } from '@mikro-orm/migrations';

/**
 * daily_sales keeps each tenant's day and currency in up to 8 rows (`shard`, chosen from the
 * order's id), and the report sums them: concurrent payments of one tenant no longer queue on one
 * row's lock (each projection held it through its commit's WAL flush). Existing rows become shard 0.
 */
export class Migration20261130071000_daily_sales_shards extends Migration {
  override name = 'Migration20261130071000_daily_sales_shards';

  override up(): void {
    this.addSql('alter table daily_sales add column shard smallint not null default 0');
    this.addSql('alter table daily_sales drop constraint daily_sales_pkey');
    this.addSql('alter table daily_sales add primary key (tenant_id, day, currency, shard)');
  }

  override down(): void {
    this.addSql(`create temporary table daily_sales_summed on commit drop as
      select tenant_id, day, currency, sum(orders_count)::int as orders_count, sum(revenue_cents)::bigint as revenue_cents,
             sum(refunds_count)::int as refunds_count, sum(refunded_cents)::bigint as refunded_cents
        from daily_sales group by tenant_id, day, currency`);
    this.addSql('delete from daily_sales');
    this.addSql('alter table daily_sales drop constraint daily_sales_pkey');
    this.addSql('alter table daily_sales drop column shard');
    this.addSql('alter table daily_sales add primary key (tenant_id, day, currency)');
    this.addSql('insert into daily_sales select * from daily_sales_summed');
  }
}
