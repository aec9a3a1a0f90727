import { Migration } from '@mikro-orm/migrations';

/**
 * `jsonb_sum`, which customer_summary's upsert calls twice per order event, in PL/pgSQL instead
 * of SQL. A SQL function whose body aggregates cannot be inlined, so PostgreSQL parsed, analysed
 * and planned its body on every call (`fmgr_sql`): 12% of the database's CPU in the pipeline
 * benchmark's profile (`perf record -a`, docs/performance.md). PL/pgSQL plans its query once per
 * session and walks only the delta's keys (one or two), adding each to the running total. Same
 * results: keys of either side, values summed as numeric, `{}` for two empty or null sides.
 */
export class Migration20261130120000_jsonb_sum_plpgsql extends Migration {
  override name = 'Migration20261130120000_jsonb_sum_plpgsql';

  override up(): void {
    this.addSql(`create or replace function jsonb_sum(a jsonb, b jsonb) returns jsonb language plpgsql immutable as $$
declare
  total jsonb := coalesce(a, '{}'::jsonb);
  pair record;
begin
  for pair in select key, value from jsonb_each_text(b) loop
    total := total || jsonb_build_object(pair.key, coalesce((total ->> pair.key)::numeric, 0) + pair.value::numeric);
  end loop;
  return total;
end $$`);
  }

  override down(): void {
    this.addSql(`create or replace function jsonb_sum(a jsonb, b jsonb) returns jsonb language sql immutable as $$
        select coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
        from (select key, sum(value::numeric) as total
                from (select * from jsonb_each_text(a) union all select * from jsonb_each_text(b)) pairs
               group by key) sums
      $$`);
  }
}
