import { Migration20261126000100_initial } from './Migration20261126000100_initial.js';
import { Migration20261129190000_order_authorization } from './Migration20261129190000_order_authorization.js';
import { Migration20261129191000_customer_summary_knows_profiles } from './Migration20261129191000_customer_summary_knows_profiles.js';
import { Migration20261129200000_money_bigint } from './Migration20261129200000_money_bigint.js';
import { Migration20261129230000_webhook_version } from './Migration20261129230000_webhook_version.js';
import { Migration20261129230100_webhook_integration_event_types } from './Migration20261129230100_webhook_integration_event_types.js';
import { Migration20261130000000_idempotency_claim_owner } from './Migration20261130000000_idempotency_claim_owner.js';
import { Migration20261130020000_outbox_events_by_aggregate } from './Migration20261130020000_outbox_events_by_aggregate.js';
import { Migration20261130050000_order_view_changes_notify } from './Migration20261130050000_order_view_changes_notify.js';
import { Migration20261130070000_order_view_announced_after_commit } from './Migration20261130070000_order_view_announced_after_commit.js';
import { Migration20261130071000_daily_sales_shards } from './Migration20261130071000_daily_sales_shards.js';
import { Migration20261130120000_jsonb_sum_plpgsql } from './Migration20261130120000_jsonb_sum_plpgsql.js';

/** Every migration, in order. Listed explicitly so compiled and TypeScript runs see the same set. */
export const migrations = [
  Migration20261126000100_initial,
  Migration20261129190000_order_authorization,
  Migration20261129191000_customer_summary_knows_profiles,
  Migration20261129200000_money_bigint,
  Migration20261129230000_webhook_version,
  Migration20261129230100_webhook_integration_event_types,
  Migration20261130000000_idempotency_claim_owner,
  Migration20261130020000_outbox_events_by_aggregate,
  Migration20261130050000_order_view_changes_notify,
  Migration20261130070000_order_view_announced_after_commit,
  Migration20261130071000_daily_sales_shards,
  Migration20261130120000_jsonb_sum_plpgsql,
];
