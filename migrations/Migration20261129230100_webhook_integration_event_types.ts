import { Migration } from '@mikro-orm/migrations';

/** The domain event type each integration event type is published from (src/events/integration). */
const RENAMES: readonly (readonly [string, string])[] = [
  ['OrderPlaced', 'order.placed'],
  ['OrderPaid', 'order.paid'],
  ['OrderPaymentFailed', 'order.payment_failed'],
  ['OrderExpired', 'order.expired'],
  ['OrderCancelled', 'order.cancelled'],
  ['OrderShipped', 'order.shipped'],
  ['ProductCreated', 'product.created'],
  ['ProductUpdated', 'product.updated'],
  ['CustomerProfileChanged', 'customer.profile_changed'],
];

/**
 * Webhook subscriptions name integration event types (the public contract) instead of domain
 * event types. Written out here rather than imported: a migration must not change when the
 * code's mapping does.
 */
export class Migration20261129230100_webhook_integration_event_types extends Migration {
  override name = 'Migration20261129230100_webhook_integration_event_types';

  override up(): void {
    for (const [from, to] of RENAMES) this.rename(from, to);
  }

  override down(): void {
    for (const [from, to] of RENAMES) this.rename(to, from);
  }

  private rename(from: string, to: string): void {
    this.addSql(
      `update webhook_subscriptions set event_types = array_replace(event_types, '${from}', '${to}') where '${from}' = any(event_types)`,
    );
  }
}
