import type { RequestHandler } from 'express';

/**
 * A handler whose modules load on its first request: for pages only operators and developers open
 * (Swagger UI, the queue dashboard), so an API that never serves them neither loads nor holds
 * them. A failed load is tried again on the next request.
 */
export function loadedOnFirstUse(load: () => Promise<RequestHandler>): RequestHandler {
  let loading: Promise<RequestHandler> | undefined;
  return (request, response, next) => {
    loading ??= load();
    loading.then(
      (handler) => handler(request, response, next),
      (error: unknown) => {
        loading = undefined;
        next(error);
      },
    );
  };
}
