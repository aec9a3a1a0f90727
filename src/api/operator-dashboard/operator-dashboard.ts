import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Services } from '../../composition-root.js';
import { defineAbilityFor } from '../../policies/abilities.js';
import { createTokenVerifier, type TokenVerifier } from '../authentication.js';
import { problemOf } from '../error-handler.js';
import { DashboardRoleRefusedError } from './dashboard.errors.js';
import { endSession, requireSession, startSession } from './dashboard-session.js';
import { REASONS, signInPage, signOutPage, type Notice } from './pages.js';
import { BOARD_API_PATH, BOARD_PATH, SIGN_IN_PATH } from './paths.js';
import { createQueueBoard } from './queue-boards.js';
import { authorizeBoard } from './board-access.js';
import { sameOriginOnly } from './same-origin.js';

/**
 * The operators' queue dashboard (bull-board), mounted by the app at `/admin`:
 * `/admin/sign-in` takes a bearer token and sets the session cookie, `/admin/queues` is the
 * board (platform operators only: retry, remove, promote), `/admin/sign-out` ends it.
 * See docs/operations.md#queue-dashboard.
 */
export function operatorDashboard(services: Pick<Services, 'config' | 'logger' | 'queueSet'>): Router {
  const verify = createTokenVerifier(services.config);
  const board = createQueueBoard(services);
  const router = express.Router();
  router.use(dashboardHeaders, cookieParser(), sameOriginOnly);

  router.get('/sign-in', (request, response) => {
    response.type('html').send(signInPage(reasonNotice(request.query.reason)));
  });
  router.post('/sign-in', express.urlencoded({ extended: false, limit: '16kb' }), signIn(verify, services.logger));
  router.get('/sign-out', (_request, response) => {
    response.type('html').send(signOutPage());
  });
  router.post('/sign-out', (request, response) => {
    endSession(request, response);
    response.redirect(303, `${SIGN_IN_PATH}?reason=signed-out`);
  });

  router.use('/queues', requireSession(verify, refuse), authorizeBoard(refuse), board);
  return router;
}

/** bull-board needs its own scripts, its inline styles, and data: images; nothing from elsewhere. */
const dashboardHelmet = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // The board's React UI sets style attributes; scripts stay locked to 'self'.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      // The board links Google Fonts; blocked on purpose (no third-party calls from an operator
      // console, and clusters without egress): the UI falls back to system fonts.
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      objectSrc: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  // Not helmet's `no-referrer`: under it browsers send `Origin: null` on form posts, which would
  // defeat the same-origin check where `Sec-Fetch-Site` is missing (plain HTTP off localhost).
  referrerPolicy: { policy: 'same-origin' },
});

function dashboardHeaders(request: Request, response: Response, next: NextFunction): void {
  // Job data and session pages must not linger in shared caches; bull-board's hashed static
  // files set their own caching over this.
  response.set('Cache-Control', 'no-store');
  dashboardHelmet(request, response, next);
}

function reasonNotice(reason: unknown): Notice | undefined {
  return typeof reason === 'string' && Object.hasOwn(REASONS, reason) ? REASONS[reason] : undefined;
}

function signIn(verify: TokenVerifier, logger: Services['logger']) {
  return async (request: Request, response: Response, next: NextFunction): Promise<void> => {
    const body = (request.body ?? {}) as { token?: unknown };
    const token = String(body.token ?? '')
      .trim()
      .replace(/^bearer\s+/i, '');
    try {
      const principal = await verify(token);
      if (!defineAbilityFor(principal).can('operate', 'Queue')) throw new DashboardRoleRefusedError(principal.roles);
      startSession(request, response, token);
      logger.info('queue dashboard sign-in', { principal: principal.id, tenant: principal.tenantId, roles: principal.roles });
      response.redirect(303, BOARD_PATH);
    } catch (error) {
      // The status is the error handler's (problemOf); only the representation is a page here.
      const problem = problemOf(error);
      if (problem.status >= 500) return next(error);
      response
        .status(problem.status)
        .type('html')
        .send(signInPage({ tone: 'error', text: problem.detail ?? problem.title }));
    }
  };
}

/** Pages redirect to the sign-in page; the board's API (and any change) answers problem+json. */
function refuse(error: unknown, request: Request, response: Response, next: NextFunction): void {
  const { status } = problemOf(error);
  const isPage = request.method === 'GET' && !request.originalUrl.startsWith(BOARD_API_PATH);
  if (!isPage || (status !== 401 && status !== 403)) return next(error);
  response.redirect(303, `${SIGN_IN_PATH}?reason=${status === 401 ? 'unauthenticated' : 'forbidden'}`);
}
