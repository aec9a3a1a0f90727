import type { DomainEventType } from '../../events/index.js';

/** A webhook subscription as listed; its signing secret is shown only once, when it is created. */
export interface WebhookDto {
  id: string;
  url: string;
  eventTypes: DomainEventType[];
  createdAt: string;
}

export interface WebhookListDto {
  items: WebhookDto[];
  nextCursor: string | null;
}
