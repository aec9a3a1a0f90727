import { Migration } from '@mikro-orm/migrations';

/**
 * order_view's trigger stays silent for a row whose writer announces the change itself after its
 * commit (the order_view projection: src/queries/order-view/order-view.projection.ts), naming
 * the row in the transaction-local setting `cqrs.order_view_announced`. A NOTIFY inside a
 * transaction holds PostgreSQL's cluster-wide NOTIFY lock through that commit's WAL flush, which
 * queued every projection commit behind every other (docs/performance.md). Every other writer (a
 * profile change, a delete, a truncate, a hand-made fix) is still announced by the trigger.
 */
export class Migration20261130070000_order_view_announced_after_commit extends Migration {
  override name = 'Migration20261130070000_order_view_announced_after_commit';

  override up(): void {
    this.addSql(`create or replace function order_view_changed() returns trigger language plpgsql as $$
begin
  if tg_op = 'TRUNCATE' then
    perform pg_notify('order_view_changed', '*');
  elsif tg_op = 'DELETE' then
    perform pg_notify('order_view_changed', json_build_array(old.tenant_id, old.id, old.version, old.customer_version)::text);
  elsif current_setting('cqrs.order_view_announced', true) is distinct from new.id::text then
    perform pg_notify('order_view_changed', json_build_array(new.tenant_id, new.id, new.version, new.customer_version)::text);
  end if;
  return null;
end $$`);
  }

  override down(): void {
    this.addSql(`create or replace function order_view_changed() returns trigger language plpgsql as $$
begin
  if tg_op = 'TRUNCATE' then
    perform pg_notify('order_view_changed', '*');
  elsif tg_op = 'DELETE' then
    perform pg_notify('order_view_changed', json_build_array(old.tenant_id, old.id, old.version, old.customer_version)::text);
  else
    perform pg_notify('order_view_changed', json_build_array(new.tenant_id, new.id, new.version, new.customer_version)::text);
  end if;
  return null;
end $$`);
  }
}
