import type { IntegrationEventType } from '../../events/integration/index.js';
import { newId } from '../../platform/ids.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { newWebhookSecret } from '../../platform/webhook-signature.js';
import { authorizeAttributes } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { WebhookSubscription } from './webhook-subscription.entity.js';
import type { WebhookTargetPolicy } from './webhook-target.js';

export interface SubscribeWebhook {
  url: string;
  eventTypes: IntegrationEventType[];
}

export interface WebhookSubscribed extends AcceptedCommand {
  /** The signing secret: returned by this command only, never readable again. */
  secret: string;
}

/** An admin subscribes a URL to event types of their tenant; deliveries are signed with a new secret. */
export class SubscribeWebhookHandler {
  constructor(
    private readonly runner: CommandRunner,
    private readonly targets: WebhookTargetPolicy,
    private readonly secrets: SecretBox,
  ) {}

  handle(principal: Principal, command: SubscribeWebhook, options?: RunOptions): Promise<WebhookSubscribed> {
    return this.runner.run(
      'SubscribeWebhook',
      principal,
      async ({ em, ability, now, record }) => {
        authorizeAttributes(ability, 'create', 'Webhook', { tenantId: principal.tenantId });
        const target = await this.targets.check(command.url);
        const [id, secret] = [newId(), newWebhookSecret()];
        const { subscription, event } = WebhookSubscription.subscribe({
          id,
          tenantId: principal.tenantId,
          target,
          eventTypes: command.eventTypes,
          sealedSecret: this.secrets.seal(secret, webhookSecretContext(id)),
          now,
        });
        em.persist(subscription);
        record(event);
        return { aggregateType: 'Webhook', aggregateId: subscription.id, secret };
      },
      options,
    );
  }
}

/** Binds a sealed signing secret to its subscription: copied to another row, it does not open. */
export const webhookSecretContext = (subscriptionId: string) => `webhook-secret:${subscriptionId}`;
