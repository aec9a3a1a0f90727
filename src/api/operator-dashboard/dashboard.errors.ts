import { AppError } from '../../platform/errors.js';

/**
 * The queue dashboard's refusals, each a named error: the one error handler (src/api/error-handler.ts)
 * chooses their status; the dashboard only chooses how to show it (a page or problem+json).
 */
export class DashboardRoleRefusedError extends AppError {
  constructor(roles: readonly string[]) {
    super(
      'forbidden',
      'auth.forbidden',
      `The roles [${roles.join(', ')}] may not open the queue dashboard: it is for platform operators`,
    );
  }
}

export class BoardActionRefusedError extends AppError {
  constructor() {
    super('forbidden', 'auth.forbidden', 'The dashboard lets operators retry, remove and promote jobs, nothing else');
  }
}

export class CrossOriginRefusedError extends AppError {
  constructor() {
    super('forbidden', 'request.cross-origin', 'Cross-origin requests may not change the queue dashboard');
  }
}
