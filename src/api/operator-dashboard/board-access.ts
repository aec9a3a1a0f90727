import type { NextFunction, Request, Response } from 'express';
import { AppError, ForbiddenError } from '../../platform/errors.js';
import type { DashboardCaller, Refuse } from './dashboard-session.js';

/**
 * The changes an operator may make through the board, as bull-board API paths (relative to the
 * board): retry, remove and promote, for one job or for every job of a state. Everything else
 * the board offers (add or edit jobs, pause, empty, obliterate, limits, schedulers) is refused
 * here even though its button shows: job data is displayed redacted, so an edit or a duplicate
 * would write the redaction back, and the rest is not an operator's runbook action.
 */
const OPERATOR_ACTIONS: readonly RegExp[] = [
  /^\/api\/queues\/[^/]+\/[^/]+\/(retry|clean|promote)$/, // one job: retry, remove, promote
  /^\/api\/queues\/[^/]+\/(retry|clean)\/(failed|completed|delayed|waiting|paused|prioritized)$/, // every job of a state
  /^\/api\/queues\/[^/]+\/promote$/, // every delayed job
];

const READS = new Set(['GET', 'HEAD']);

/** Who may open the board (read: admin, operator) and which changes get through (operator only). */
export function authorizeBoard(refuse: Refuse) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const { ability } = response.locals.caller as DashboardCaller;
    if (!ability.can('read', 'Queue')) return refuse(new ForbiddenError('open', 'queue dashboard'), request, response, next);
    if (READS.has(request.method)) return next();
    // Read-only adapters refuse changes as well; this refuses them before bull-board sees them.
    if (!ability.can('operate', 'Queue')) {
      return next(forbidden('Only operators may change queues; this board is read-only for you'));
    }
    const allowed = request.method === 'PUT' && OPERATOR_ACTIONS.some((action) => action.test(request.path));
    next(allowed ? undefined : forbidden('The dashboard lets operators retry, remove and promote jobs, nothing else'));
  };
}

const forbidden = (detail: string) => new AppError('forbidden', 'auth.forbidden', detail);
