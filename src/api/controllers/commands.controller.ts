import { Controller, Get, Path, Request, Response, Route, Security, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import type { Services } from '../../composition-root.js';
import type { CommandDto } from '../../queries/command-status/command.dto.js';
import type { Problem } from '../error-handler.js';
import { principalOf, type Uuid } from './http-shapes.js';

@Route('v1/commands')
@Tags('Commands')
@Security('jwt')
export class CommandsController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * Where a command stands: `accepted` until every read model reflects it, then `succeeded` (or `failed`).
   * @summary Read a command's status
   */
  @Get('{commandId}')
  @Response<Problem>(404, 'No such command of the caller')
  public async getCommand(@Request() request: ExpressRequest, @Path() commandId: Uuid): Promise<CommandDto> {
    return this.services.queries.getCommandStatus.handle(principalOf(request), commandId);
  }
}
