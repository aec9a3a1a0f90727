import { authorize } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { webhookForUpdate } from './webhook-subscription.repository.js';

export interface DeleteWebhook {
  webhookId: string;
}

/**
 * An admin deletes a subscription of their tenant. The row and its secret are gone at once (the
 * event log keeps WebhookDeleted); deliveries still queued for it fail for good (they land in the
 * dead-letter queue).
 */
export class DeleteWebhookHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: DeleteWebhook, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      'DeleteWebhook',
      principal,
      async ({ em, ability, record }) => {
        const subscription = await webhookForUpdate(em, principal.tenantId, command.webhookId);
        authorize(ability, 'delete', 'Webhook', subscription);
        record(subscription.delete());
        em.remove(subscription);
        return { aggregateType: 'Webhook', aggregateId: subscription.id };
      },
      options,
    );
  }
}
