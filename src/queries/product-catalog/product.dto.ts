import type { Timestamp } from '../../platform/clock.js';

export interface ProductDto {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
  updatedAt: Timestamp;
}

export interface ProductListDto {
  items: ProductDto[];
  nextCursor: string | null;
}
