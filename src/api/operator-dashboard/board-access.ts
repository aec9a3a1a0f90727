import type { NextFunction, Request, Response } from 'express';
import { ForbiddenError } from '../../platform/errors.js';
import { BoardActionRefusedError } from './dashboard.errors.js';
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

/**
 * Who may open the board and which changes get through: platform operators only. The board
 * shows jobs of every tenant with their failure reasons and stack traces (internal paths), so
 * no tenant's admin may see it, not even read-only.
 */
export function authorizeBoard(refuse: Refuse) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const { ability } = response.locals.caller as DashboardCaller;
    if (!ability.can('operate', 'Queue')) return refuse(new ForbiddenError('open', 'queue dashboard'), request, response, next);
    if (READS.has(request.method)) return next();
    const allowed = request.method === 'PUT' && OPERATOR_ACTIONS.some((action) => action.test(request.path));
    next(allowed ? undefined : new BoardActionRefusedError());
  };
}
