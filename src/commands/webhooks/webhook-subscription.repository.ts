import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NotFoundError } from '../../platform/errors.js';
import { WebhookSubscription } from './webhook-subscription.entity.js';

/**
 * Loads a subscription of the tenant for a change, locking its row until the command commits, so
 * two deletes of one subscription apply one after the other (the second finds nothing: 404).
 */
export async function webhookForUpdate(em: EntityManager, tenantId: string, webhookId: string): Promise<WebhookSubscription> {
  const subscription = await em.findOne(
    WebhookSubscription,
    { id: webhookId, tenantId },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  if (!subscription) throw new NotFoundError('Webhook', webhookId);
  return subscription;
}
