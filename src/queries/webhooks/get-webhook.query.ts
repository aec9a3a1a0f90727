import { ForbiddenError, NotFoundError } from '../../platform/errors.js';
import { accessFilter } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Reader } from '../shared/read-context.js';
import type { WebhookDto } from './webhook.dto.js';
import { WebhookListing } from './webhook-listing.entity.js';
import { toWebhookDto } from './webhook-listing.mapper.js';

/**
 * One webhook subscription of the caller's tenant (admin), without its secret. As with the list,
 * a role that may see no webhooks is refused; another tenant's subscription is "not found".
 */
export class GetWebhookQuery {
  constructor(private readonly reader: Reader) {}

  async handle(principal: Principal, webhookId: string): Promise<WebhookDto> {
    const { em, ability } = await this.reader.open(principal, null);
    const visible = accessFilter<WebhookListing>(ability, 'read', 'Webhook');
    if (!visible) throw new ForbiddenError('read', "tenant's webhooks");
    const row = await em.findOne(WebhookListing, { $and: [visible, { id: webhookId }] });
    if (!row) throw new NotFoundError('Webhook', webhookId);
    return toWebhookDto(row);
  }
}
