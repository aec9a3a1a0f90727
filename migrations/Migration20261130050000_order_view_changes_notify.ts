import { Migration } from '@mikro-orm/migrations';

/**
 * order_view announces every committed change of a row (and a truncate, as '*') on the
 * order_view_changed channel, with the row's tenant, id and versions: the API's order cache
 * (src/queries/order-view/order-view.cache.ts) drops the row and refuses older fills. A trigger,
 * so that every writer (projection jobs, rebuilds, a hand-made fix) is heard.
 */
export class Migration20261130050000_order_view_changes_notify extends Migration {
  override name = 'Migration20261130050000_order_view_changes_notify';

  override up(): void {
    this.addSql(`create function order_view_changed() returns trigger language plpgsql as $$
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
    this.addSql(
      'create trigger order_view_row_changed after insert or update or delete on order_view for each row execute function order_view_changed()',
    );
    this.addSql(
      'create trigger order_view_truncated after truncate on order_view for each statement execute function order_view_changed()',
    );
  }

  override down(): void {
    this.addSql('drop trigger order_view_truncated on order_view');
    this.addSql('drop trigger order_view_row_changed on order_view');
    this.addSql('drop function order_view_changed()');
  }
}
