import type { ErrorRequestHandler, NextFunction, RequestHandler } from 'express';

type Middleware = RequestHandler | ErrorRequestHandler;

/**
 * Several middlewares as one Express layer, with Express's rules: an error skips to the next
 * error handler (four parameters), `next('route' | 'router')` leaves the sequence, a rejected
 * promise is an error. Every layer a request passes costs Express's dispatch and OpenTelemetry's
 * layer wrapper (which runs even for layers it makes no span for), so /v1's seven run as one.
 */
export function inSequence(middlewares: Middleware[]): RequestHandler {
  return (request, response, done) => {
    let index = 0;
    const next: NextFunction = (error?: unknown) => {
      if (error === 'route' || error === 'router') return done(error);
      while (index < middlewares.length) {
        const middleware = middlewares[index++]!;
        const handlesErrors = middleware.length === 4;
        if (Boolean(error) !== handlesErrors) continue;
        try {
          const result: unknown = handlesErrors
            ? (middleware as ErrorRequestHandler)(error, request, response, next)
            : (middleware as RequestHandler)(request, response, next);
          if (result instanceof Promise) result.catch(next);
        } catch (thrown) {
          next(thrown);
        }
        return;
      }
      done(error);
    };
    next();
  };
}
