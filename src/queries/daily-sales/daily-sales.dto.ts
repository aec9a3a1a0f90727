export interface DailySalesDto {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  currency: string;
  ordersCount: number;
  revenueCents: number;
  refundsCount: number;
  refundedCents: number;
  netCents: number;
}

export interface DailySalesReportDto {
  from: string;
  to: string;
  items: DailySalesDto[];
}
