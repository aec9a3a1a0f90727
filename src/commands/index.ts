import type { Clock } from '../platform/clock.js';
import type { SecretBox } from '../platform/secret-box.js';
import type { Orm } from '../platform/db/orm.js';
import type { Observer } from '../platform/observe.js';
import { CustomerSchema } from './customers/customer.entity.js';
import { UpdateProfileHandler } from './customers/update-profile.handler.js';
import { CancelOrderHandler } from './orders/cancel-order.handler.js';
import { ExpireOrderHandler } from './orders/expire-order.handler.js';
import { OrderSchema } from './orders/order.entity.js';
import { PlaceOrderHandler } from './orders/place-order.handler.js';
import { RecordPaymentHandler } from './orders/record-payment.handler.js';
import { ShipOrderHandler } from './orders/ship-order.handler.js';
import { CreateProductHandler } from './products/create-product.handler.js';
import { ProductSchema } from './products/product.entity.js';
import { UpdateProductHandler } from './products/update-product.handler.js';
import { CommandRecordSchema } from './shared/command-record.entity.js';
import { CommandRunner } from './shared/command-runner.js';
import type { IdempotencyStore } from './shared/idempotency.js';
import { DeleteWebhookHandler } from './webhooks/delete-webhook.handler.js';
import { SubscribeWebhookHandler } from './webhooks/subscribe-webhook.handler.js';
import { WebhookSubscriptionSchema } from './webhooks/webhook-subscription.entity.js';
import { WebhookTargetPolicy } from './webhooks/webhook-target.js';

/** The write side's entities, registered with MikroORM by the composition root. */
export const commandEntities = [ProductSchema, CustomerSchema, OrderSchema, CommandRecordSchema, WebhookSubscriptionSchema];

/** Every use case that changes state: the table of contents of the write side. */
export interface Commands {
  // products (admin)
  createProduct: CreateProductHandler;
  updateProduct: UpdateProductHandler;
  // customers
  updateProfile: UpdateProfileHandler;
  // orders
  placeOrder: PlaceOrderHandler;
  cancelOrder: CancelOrderHandler;
  shipOrder: ShipOrderHandler;
  // orders, from background processes
  recordPayment: RecordPaymentHandler;
  expireOrder: ExpireOrderHandler;
  // webhooks (admin)
  subscribeWebhook: SubscribeWebhookHandler;
  deleteWebhook: DeleteWebhookHandler;
}

export interface CommandSettings {
  /** Hosts webhooks may target although they are not https or resolve to private addresses. */
  webhookAllowedHosts: readonly string[];
  /** Seals webhook signing secrets before they are stored. */
  secrets: SecretBox;
  /** After a command with events committed: the relay's wake-up (a hint; it polls as well). */
  wakeRelay?: () => void;
}

export function createCommands(
  orm: Orm,
  clock: Clock,
  idempotencyKeys: IdempotencyStore,
  observer: Observer,
  settings: CommandSettings,
): Commands {
  const runner = new CommandRunner(orm, clock, idempotencyKeys, settings.wakeRelay);
  // Every handler is observed here, once: handlers never time or log themselves.
  return observer.wrapAll('command', {
    createProduct: new CreateProductHandler(runner),
    updateProduct: new UpdateProductHandler(runner),
    updateProfile: new UpdateProfileHandler(runner),
    placeOrder: new PlaceOrderHandler(runner),
    cancelOrder: new CancelOrderHandler(runner),
    shipOrder: new ShipOrderHandler(runner),
    recordPayment: new RecordPaymentHandler(runner),
    expireOrder: new ExpireOrderHandler(runner),
    subscribeWebhook: new SubscribeWebhookHandler(
      runner,
      new WebhookTargetPolicy(settings.webhookAllowedHosts),
      settings.secrets,
    ),
    deleteWebhook: new DeleteWebhookHandler(runner),
  });
}
