import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Path,
  Post,
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
import type { IntegrationEventType } from '../../events/integration/index.js';
import type { WebhookDto, WebhookListDto } from '../../queries/webhooks/webhook.dto.js';
import type { Problem } from '../error-handler.js';
import { accepted, idempotency, principalOf, type IdempotencyKey, type Uuid, type WebhookAccepted } from './http-shapes.js';

export interface SubscribeWebhookBody {
  /**
   * Where deliveries are POSTed: https, on a host that resolves to public addresses only
   * (hosts in WEBHOOK_ALLOWED_HOSTS may use http and private addresses).
   * @minLength 1
   * @maxLength 2048
   * @example "https://hooks.example.com/cqrs"
   */
  url: string;
  /**
   * @minItems 1
   * @maxItems 50
   */
  eventTypes: IntegrationEventType[];
}

export interface WebhookSubscribedResponse extends WebhookAccepted {
  /** HMAC-SHA256 key of this subscription's `Webhook-Signature`; shown in this response only. */
  secret: string;
}

@Route('v1/webhooks')
@Tags('Webhooks')
@Security('jwt')
export class WebhooksController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * Subscribes a URL to event types of the tenant (admin). Deliveries are signed; see docs/webhooks.md.
   * @summary Subscribe a webhook
   */
  @Post()
  @SuccessResponse<{ 'Cache-Control': 'no-store' }>(202, 'Accepted')
  @Response<Problem>(400, 'Invalid body')
  @Response<Problem>(403, 'Not an admin')
  @Response<Problem>(422, 'The target is refused (not https, or a private address) or does not resolve')
  public async subscribeWebhook(
    @Request() request: ExpressRequest,
    @Body() body: SubscribeWebhookBody,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<WebhookSubscribedResponse> {
    const result = await this.services.commands.subscribeWebhook.handle(
      principalOf(request),
      body,
      idempotency(request, idempotencyKey),
    );
    this.setHeader('Cache-Control', 'no-store');
    return { ...accepted(this, result, 'webhookId'), secret: result.secret };
  }

  /**
   * The tenant's webhook subscriptions, newest first, a keyset page at a time (admin). Secrets are never listed.
   * @summary List webhooks
   * @param limit Page size.
   * @isInt limit must be a whole number
   * @minimum limit 1 must be between 1 and 100
   * @maximum limit 100 must be between 1 and 100
   */
  @Get()
  @Response<Problem>(403, 'Not an admin')
  public async listWebhooks(
    @Request() request: ExpressRequest,
    @Query() limit = 20,
    @Query() cursor?: string,
  ): Promise<WebhookListDto> {
    return this.services.queries.listWebhooks.handle(principalOf(request), { limit, cursor });
  }

  /**
   * One subscription of the tenant (admin), without its secret.
   * @summary Read a webhook
   */
  @Get('{webhookId}')
  @Response<Problem>(403, 'Not an admin')
  @Response<Problem>(404, 'No such webhook in the tenant')
  public async getWebhook(@Request() request: ExpressRequest, @Path() webhookId: Uuid): Promise<WebhookDto> {
    return this.services.queries.getWebhook.handle(principalOf(request), webhookId);
  }

  /**
   * Deletes a subscription (admin); deliveries still queued for it are dead-lettered.
   * @summary Delete a webhook
   */
  @Delete('{webhookId}')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(404, 'No such webhook in the tenant')
  public async deleteWebhook(
    @Request() request: ExpressRequest,
    @Path() webhookId: Uuid,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<WebhookAccepted> {
    const result = await this.services.commands.deleteWebhook.handle(
      principalOf(request),
      { webhookId },
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'webhookId');
  }
}
