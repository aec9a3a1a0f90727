import type { DomainEventType } from '../../events/index.js';
import { newId } from '../../platform/ids.js';
import { newWebhookSecret } from '../../platform/webhook-signature.js';
import { authorizeAttributes } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { WebhookSubscription } from './webhook-subscription.entity.js';
import type { WebhookTargetPolicy } from './webhook-target.js';

export interface SubscribeWebhook {
  url: string;
  eventTypes: DomainEventType[];
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
  ) {}

  handle(principal: Principal, command: SubscribeWebhook, options?: RunOptions): Promise<WebhookSubscribed> {
    return this.runner.run(
      'SubscribeWebhook',
      principal,
      async ({ em, ability, now }) => {
        authorizeAttributes(ability, 'create', 'Webhook', { tenantId: principal.tenantId });
        const target = await this.targets.check(command.url);
        const secret = newWebhookSecret();
        const subscription = WebhookSubscription.subscribe({
          id: newId(),
          tenantId: principal.tenantId,
          target,
          eventTypes: command.eventTypes,
          secret,
          now,
        });
        em.persist(subscription);
        return { aggregateType: 'Webhook', aggregateId: subscription.id, secret };
      },
      options,
    );
  }
}
