import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Services } from '../composition-root.js';
import { authenticate, createTokenVerifier } from './authentication.js';
import { conditionalGet } from './conditional-get.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { healthRoutes, type Readiness } from './health.js';
import { inSequence } from './in-sequence.js';
import { loadedOnFirstUse } from './loaded-on-first-use.js';
import { rejectUnreadableRequest, rejectUnstorableBody } from './input-hygiene.js';
import { RateLimits } from './rate-limit.js';
import { observeRequests } from './observe-requests.js';
import { operatorDashboard } from './operator-dashboard/operator-dashboard.js';
import { requestContext } from './request-context.js';
import { RegisterRoutes } from './generated/routes.js';
import openApiDocument from './generated/swagger.json' with { type: 'json' };
import asyncApiDocument from './generated/asyncapi.json' with { type: 'json' };

export interface ApiDependencies {
  services: Services;
  readiness: Readiness;
}

/** The Express application: platform routes, then /v1 (authenticated, rate limited, validated by tsoa). */
export function createApp({ services, readiness }: ApiDependencies): Express {
  const { config, logger, redis } = services;
  const app = express();
  app.locals.services = services;
  // ETags are conditionalGet's (RFC 9110 semantics, GET answers only), not Express's.
  app.set('etag', false);
  // How many proxies in front of the API may name the client (X-Forwarded-For): see docs/security.md.
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  app.disable('x-powered-by');

  app.use(requestContext);
  app.use(observeRequests(services.metrics, logger));
  app.use(rejectUnreadableRequest);
  // Probes and scrapes are never limited: the kubelet and Prometheus call from a few addresses
  // (in the mesh, all from the sidecar) and a 429 would restart or blind a healthy pod.
  // The mesh keeps both paths inside the cluster (docs/security.md).
  app.get('/metrics', async (_request, response) => {
    response.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });
  app.use(healthRoutes(services, readiness));
  // Every other path is limited per client address before anything else is done for it (on /v1,
  // an address over its limit is refused before authentication; see RateLimits).
  const limits = new RateLimits(
    redis,
    {
      address: { points: config.RATE_LIMIT_ADDRESS_POINTS, durationMs: config.RATE_LIMIT_DURATION },
      principal: { points: config.RATE_LIMIT_POINTS, durationMs: config.RATE_LIMIT_DURATION },
    },
    config.QUEUE_PREFIX,
  );
  const limitPerAddress = limits.perAddress;
  app.get('/openapi.json', limitPerAddress, (_request, response) => {
    response.json(openApiDocument);
  });
  // The webhooks' integration events (AsyncAPI 3), public like the OpenAPI document.
  app.get('/asyncapi.json', limitPerAddress, (_request, response) => {
    response.json(asyncApiDocument);
  });
  // Swagger UI needs inline scripts and styles; the rest of the API keeps helmet's strict CSP.
  app.use(
    '/docs',
    limitPerAddress,
    helmet({ contentSecurityPolicy: false }),
    loadedOnFirstUse(async () => {
      const { default: swaggerUi } = await import('swagger-ui-express');
      const router = express.Router();
      router.use(swaggerUi.serve, swaggerUi.setup(openApiDocument, { swaggerOptions: { persistAuthorization: true } }));
      return router;
    }),
  );
  // The queue dashboard: cookie session, CSRF check and a CSP of its own (see the module).
  app.use('/admin', limitPerAddress, operatorDashboard(services));

  app.use(helmet());
  app.use(
    '/v1',
    inSequence([
      ...limits.around(authenticate(createTokenVerifier(config))),
      express.json({ limit: config.BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }),
      rejectUnstorableBody,
      conditionalGet,
    ]),
  );
  const v1 = express.Router();
  RegisterRoutes(v1);
  app.use(v1);

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
