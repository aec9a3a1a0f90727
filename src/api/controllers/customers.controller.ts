import {
  Body,
  Controller,
  Get,
  Header,
  Path,
  Put,
  Query,
  Request,
  Response,
  Route,
  Security,
  SuccessResponse,
  Tags,
} from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import type { Services } from '../../composition-root.js';
import type { CustomerSummaryDto } from '../../queries/customer-summary/customer-summary.dto.js';
import type { Problem } from '../error-handler.js';
import {
  accepted,
  idempotency,
  principalOf,
  reportFreshness,
  type ProfileAccepted,
  type IdempotencyKey,
  type Uuid,
} from './http-shapes.js';

export interface ProfileBody {
  /**
   * @minLength 1
   * @maxLength 200
   */
  name: string;
  /**
   * @pattern ^[^\s@]+@[^\s@]+\.[^\s@]+$
   * @maxLength 320
   */
  email: string;
}

/**
 * A customer id: the `sub` of the customer's token.
 * @pattern ^[\x21-\x7E]{1,200}$
 */
export type CustomerId = string;

@Route('v1/customers')
@Tags('Customers')
@Security('jwt')
export class CustomersController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * A customer replaces their own profile; order views follow the new name.
   * @summary Replace my profile
   */
  @Put('me')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(400, 'Invalid body')
  @Response<Problem>(403, 'Only customers have a profile')
  public async updateMyProfile(
    @Request() request: ExpressRequest,
    @Body() body: ProfileBody,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<ProfileAccepted> {
    const result = await this.services.commands.updateProfile.handle(
      principalOf(request),
      body,
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'customerId');
  }

  /**
   * Counts by status, lifetime value and last order: the customer themself, or staff and admin.
   * @summary Read a customer's summary
   */
  @Get('{customerId}/summary')
  @Response<Problem>(404, 'No such customer visible to the caller')
  public async getCustomerSummary(
    @Request() request: ExpressRequest,
    @Path() customerId: CustomerId,
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<CustomerSummaryDto> {
    const { summary, freshness } = await this.services.queries.getCustomerSummary.handle(principalOf(request), customerId, {
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, freshness);
    return summary;
  }
}
