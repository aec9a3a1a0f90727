import { Controller, Get, Header, Query, Request, Response, Route, Security, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import type { Services } from '../../composition-root.js';
import type { DailySalesReportDto } from '../../queries/daily-sales/daily-sales.dto.js';
import type { Problem } from '../error-handler.js';
import { principalOf, reportFreshness, type Uuid } from './http-shapes.js';

/**
 * A UTC day.
 * @pattern ^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$
 * @example "2026-11-26"
 */
export type Day = string;

@Route('v1/reports')
@Tags('Reports')
@Security('jwt')
export class ReportsController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * Sales per UTC day and currency (admin): paid orders by day of payment, refunds by day of refund. At most 366 days.
   * @summary Read daily sales
   */
  @Get('daily-sales')
  @Response<Problem>(403, 'Not an admin')
  public async getDailySales(
    @Request() request: ExpressRequest,
    @Query() from?: Day,
    @Query() to?: Day,
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<DailySalesReportDto> {
    const { freshness, ...report } = await this.services.queries.getDailySales.handle(principalOf(request), {
      from,
      to,
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, freshness);
    return report;
  }
}
