import type { EventEnvelope } from './envelope.js';

export interface CustomerProfile {
  customerId: string;
  name: string;
  email: string;
}

export interface CustomerEventPayloads {
  /** First sight of a customer (from the token's `name`/`email`) and every later profile edit. */
  CustomerProfileChanged: { profile: CustomerProfile };
}

export type CustomerEventType = keyof CustomerEventPayloads;
export type CustomerEvent = EventEnvelope<'CustomerProfileChanged', CustomerEventPayloads['CustomerProfileChanged']>;
export const CUSTOMER_EVENT_TYPES: readonly CustomerEventType[] = ['CustomerProfileChanged'];
