export interface ProductDto {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
  updatedAt: string;
}

export interface ProductListDto {
  items: ProductDto[];
  nextCursor: string | null;
}
