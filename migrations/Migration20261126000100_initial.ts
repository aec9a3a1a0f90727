import { Migration } from '@mikro-orm/migrations';

/**
 * The whole initial schema, written by hand so the reader sees every table, key and index.
 * Write side: products, customers, orders, webhook_subscriptions, outbox_events (also the event
 * log), command_log, idempotency_keys. Read side: *_view tables, customer_summary, daily_sales,
 * product_catalog, and processed_events (the projections' inbox).
 */
export class Migration20261126000100_initial extends Migration {
  override name = 'Migration20261126000100_initial';

  override up(): void {
    this.addSql(`
      create table products (
        id uuid primary key,
        tenant_id text not null,
        sku text not null,
        name text not null,
        price_cents integer not null check (price_cents >= 0),
        currency char(3) not null,
        active boolean not null default true,
        version integer not null default 1,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (tenant_id, sku)
      );

      create table customers (
        tenant_id text not null,
        id text not null,
        name text not null,
        email text not null,
        version integer not null default 1,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        primary key (tenant_id, id)
      );

      create table orders (
        id uuid primary key,
        tenant_id text not null,
        customer_id text not null,
        lines jsonb not null,
        total_cents integer not null,
        currency char(3) not null,
        status text not null,
        status_history jsonb not null,
        internal_note text,
        risk_score integer,
        version integer not null,
        placed_at timestamptz not null,
        updated_at timestamptz not null,
        foreign key (tenant_id, customer_id) references customers (tenant_id, id)
      );
      create index orders_tenant_customer on orders (tenant_id, customer_id);

      create table webhook_subscriptions (
        id uuid primary key,
        tenant_id text not null,
        url text not null,
        event_types text[] not null,
        secret text not null,
        created_at timestamptz not null
      );
      create index webhook_subscriptions_tenant on webhook_subscriptions (tenant_id);

      -- The transactional outbox, kept as the event log: published_at marks relay progress only.
      create table outbox_events (
        id uuid primary key,
        position bigint generated always as identity unique,
        tenant_id text not null,
        type text not null,
        schema_version integer not null,
        aggregate_type text not null,
        aggregate_id text not null,
        aggregate_version integer not null,
        command_id uuid,
        payload jsonb not null,
        trace_context jsonb,
        occurred_at timestamptz not null,
        published_at timestamptz
      );
      create index outbox_events_unpublished on outbox_events (position) where published_at is null;
      create index outbox_events_command on outbox_events (command_id) where command_id is not null;

      create table command_log (
        id uuid primary key,
        tenant_id text not null,
        principal_id text not null,
        type text not null,
        status text not null,
        aggregate_type text,
        aggregate_id text,
        error jsonb,
        created_at timestamptz not null,
        completed_at timestamptz
      );

      create table idempotency_keys (
        tenant_id text not null,
        principal_id text not null,
        key text not null,
        request_hash text not null,
        status text not null,
        response_status integer,
        response_body jsonb,
        response_headers jsonb,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        primary key (tenant_id, principal_id, key)
      );
      create index idempotency_keys_expiry on idempotency_keys (expires_at);

      create table processed_events (
        consumer text not null,
        event_id uuid not null,
        command_id uuid,
        processed_at timestamptz not null default now(),
        primary key (consumer, event_id)
      );
      create index processed_events_command on processed_events (command_id) where command_id is not null;

      create table customer_profile_view (
        tenant_id text not null,
        customer_id text not null,
        name text not null,
        email text not null,
        version integer not null,
        primary key (tenant_id, customer_id)
      );

      create table order_view (
        id uuid primary key,
        tenant_id text not null,
        customer_id text not null,
        customer_name text not null,
        customer_email text not null,
        customer_version integer not null,
        lines jsonb not null,
        total_cents integer not null,
        currency char(3) not null,
        status text not null,
        status_history jsonb not null,
        internal_note text,
        risk_score integer,
        placed_at timestamptz not null,
        updated_at timestamptz not null,
        version integer not null
      );
      create index order_view_tenant_placed on order_view (tenant_id, placed_at desc, id desc);
      create index order_view_tenant_customer on order_view (tenant_id, customer_id, placed_at desc, id desc);

      -- Adds two {key: number} objects key by key; counting projections merge deltas with it.
      create function jsonb_sum(a jsonb, b jsonb) returns jsonb language sql immutable as $$
        select coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
        from (select key, sum(value::numeric) as total
                from (select * from jsonb_each_text(a) union all select * from jsonb_each_text(b)) pairs
               group by key) sums
      $$;

      create table customer_summary (
        tenant_id text not null,
        customer_id text not null,
        orders_count integer not null default 0,
        count_by_status jsonb not null default '{}'::jsonb,
        -- per currency: {"EUR": 1250}; paid totals minus refunds
        lifetime_value jsonb not null default '{}'::jsonb,
        last_order_id uuid,
        last_order_at timestamptz,
        primary key (tenant_id, customer_id)
      );

      -- Paid orders by the UTC day of payment; refunds by the UTC day of the refund.
      create table daily_sales (
        tenant_id text not null,
        day date not null,
        currency char(3) not null,
        orders_count integer not null default 0,
        revenue_cents bigint not null default 0,
        refunds_count integer not null default 0,
        refunded_cents bigint not null default 0,
        primary key (tenant_id, day, currency)
      );

      create table product_catalog (
        id uuid primary key,
        tenant_id text not null,
        sku text not null,
        name text not null,
        price_cents integer not null,
        currency char(3) not null,
        active boolean not null,
        version integer not null,
        updated_at timestamptz not null
      );
      create index product_catalog_tenant on product_catalog (tenant_id, sku);
    `);
  }

  override down(): void {
    this.addSql(`
      drop table if exists product_catalog, daily_sales, customer_summary, order_view, customer_profile_view,
        processed_events, idempotency_keys, command_log, outbox_events, webhook_subscriptions, orders,
        customers, products;
      drop function if exists jsonb_sum(jsonb, jsonb);
    `);
  }
}
