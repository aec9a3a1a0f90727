import type { WebhookListing } from './webhook-listing.entity.js';
import type { WebhookDto } from './webhook.dto.js';

export function toWebhookDto(row: WebhookListing): WebhookDto {
  return { id: row.id, url: row.url, eventTypes: row.eventTypes, createdAt: row.createdAt.toISOString() };
}
