import type { IntegrationEventType } from '../../events/integration/index.js';
import type { Timestamp } from '../../platform/clock.js';

/** A webhook subscription as listed; its signing secret is shown only once, when it is created. */
export interface WebhookDto {
  id: string;
  url: string;
  eventTypes: IntegrationEventType[];
  createdAt: Timestamp;
}

export interface WebhookListDto {
  items: WebhookDto[];
  nextCursor: string | null;
}
