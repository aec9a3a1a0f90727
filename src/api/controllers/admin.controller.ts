import { Controller, Get, Path, Post, Request, Response, Route, Security, SuccessResponse, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import type { Services } from '../../composition-root.js';
import { ForbiddenError, NotFoundError } from '../../platform/errors.js';
import { defineAbilityFor, type Action } from '../../policies/abilities.js';
import type { RebuildProgress } from '../../queries/shared/projection-rebuilds.js';
import type { QueueOverview } from '../../workers/queue-operations.js';
import { isQueueName } from '../../workers/queues.js';
import type { Problem } from '../error-handler.js';
import { principalOf } from './http-shapes.js';

/** Operators steer the machinery (queues, dead letters, projections); admins may look. */
@Route('v1/admin')
@Tags('Operations')
@Security('jwt')
export class AdminController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * Every queue: jobs per state, backlog, oldest waiting age and dead letters (operator; queues hold every tenant's jobs).
   * @summary List queues
   */
  @Get('queues')
  @Response<Problem>(403, 'Not an operator')
  public async listQueues(@Request() request: ExpressRequest): Promise<{ items: QueueOverview[] }> {
    this.authorize(request, 'read', 'Queue');
    return { items: await this.services.queueOperations.overview() };
  }

  /**
   * Sends a queue's dead letters back for a fresh set of attempts (operator).
   * @summary Redrive dead letters
   */
  @Post('queues/{name}/dead-letters/redrive')
  @Response<Problem>(403, 'Not an operator')
  @Response<Problem>(404, 'No such queue')
  public async redrive(@Request() request: ExpressRequest, @Path() name: string): Promise<{ queue: string; redriven: number }> {
    this.authorize(request, 'operate', 'Queue');
    if (!isQueueName(name)) throw new NotFoundError('Queue', name);
    return { queue: name, ...(await this.services.queueOperations.redrive(name)) };
  }

  /**
   * Rebuilds a read model from the event log in the background; follow `Location` for progress (operator).
   * @summary Rebuild a projection
   */
  @Post('projections/{name}/rebuild')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(403, 'Not an operator')
  @Response<Problem>(404, 'No such projection')
  @Response<Problem>(409, 'A rebuild of this projection is running')
  public async rebuild(@Request() request: ExpressRequest, @Path() name: string): Promise<RebuildProgress> {
    this.authorize(request, 'operate', 'Projection');
    const progress = await this.services.rebuilds.start(name);
    this.setStatus(202);
    this.setHeader('Location', `/v1/admin/projections/${name}/rebuild`);
    return progress;
  }

  /**
   * Progress of the latest rebuild of a projection (operator).
   * @summary Read rebuild progress
   */
  @Get('projections/{name}/rebuild')
  @Response<Problem>(403, 'Not an operator')
  @Response<Problem>(404, 'No such projection, or never rebuilt')
  public async rebuildStatus(@Request() request: ExpressRequest, @Path() name: string): Promise<RebuildProgress> {
    this.authorize(request, 'operate', 'Projection');
    return this.services.rebuilds.status(name);
  }

  private authorize(request: ExpressRequest, action: Action, type: 'Queue' | 'Projection'): void {
    if (!defineAbilityFor(principalOf(request)).can(action, type)) throw new ForbiddenError(action, type.toLowerCase());
  }
}
