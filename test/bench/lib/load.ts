import autocannon from 'autocannon';

export interface ClosedLoopResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface ClosedLoopOptions {
  /** Origin, e.g. http://127.0.0.1:3000 */
  url: string;
  seconds: number;
  connections: number;
  /** Rotated per request (many principals, as in real traffic: rate limits are per principal). */
  targets: Array<{ token: string; path: string }>;
  body?: string;
  onBody?: (body: string) => void;
}

/** `connections` clients each sending the next request as soon as the previous one answered. */
export async function closedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  let next = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        method: options.body ? 'POST' : 'GET',
        setupRequest: (request) => {
          const target = options.targets[next++ % options.targets.length]!;
          return {
            ...request,
            path: target.path,
            ...(options.body ? { body: options.body } : {}),
            headers: {
              ...(options.body ? { 'content-type': 'application/json' } : {}),
              authorization: `Bearer ${target.token}`,
            },
          };
        },
        ...(options.onBody
          ? {
              onResponse: (status: number, body: string) => {
                if (status < 300) options.onBody!(body);
              },
            }
          : {}),
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/**
 * Open-loop load: `fire` is started at a fixed rate whatever the answers' latency (so a slow
 * system sees a queue build up, as it would in production), and awaited at the end.
 */
export async function openLoop(rate: number, seconds: number, fire: (index: number) => Promise<void>): Promise<number> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) inFlight.push(fire(sent++));
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, 1000 / rate / 2)));
  }
  await Promise.all(inFlight);
  return sent;
}
