import type { EventEnvelope } from './envelope.js';

export interface ProductSnapshot {
  productId: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
  updatedAt: string;
}

export interface ProductEventPayloads {
  ProductCreated: { product: ProductSnapshot };
  ProductUpdated: { product: ProductSnapshot };
}

export type ProductEventType = keyof ProductEventPayloads;
export type ProductEvent = { [K in ProductEventType]: EventEnvelope<K, ProductEventPayloads[K]> }[ProductEventType];
export const PRODUCT_EVENT_TYPES: readonly ProductEventType[] = ['ProductCreated', 'ProductUpdated'];
