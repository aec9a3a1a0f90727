/**
 * Where the tests find PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set; otherwise
 * testcontainers when a container runtime exists; otherwise a clear failure. Resolved once per run.
 */
export interface Infrastructure {
  /** A server URL; every suite creates (and drops) its own database on it. */
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

let resolved: Promise<Infrastructure> | undefined;

export function infrastructure(): Promise<Infrastructure> {
  resolved ??= resolve();
  return resolved;
}

async function resolve(): Promise<Infrastructure> {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (DATABASE_URL && REDIS_URL) return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, stop: async () => {} };
  return startContainers(DATABASE_URL, REDIS_URL);
}

async function startContainers(databaseUrl: string | undefined, redisUrl: string | undefined): Promise<Infrastructure> {
  const { GenericContainer, Wait } = await import('testcontainers');
  try {
    const postgres = databaseUrl
      ? undefined
      : await new GenericContainer('postgres:15-alpine')
          .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
          .withExposedPorts(5432)
          .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
          .start();
    const redis = redisUrl
      ? undefined
      : await new GenericContainer('redis:7-alpine')
          .withCommand(['redis-server', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes'])
          .withExposedPorts(6379)
          .start();
    return {
      databaseUrl: databaseUrl ?? `postgres://postgres@${postgres!.getHost()}:${postgres!.getMappedPort(5432)}/postgres`,
      redisUrl: redisUrl ?? `redis://${redis!.getHost()}:${redis!.getMappedPort(6379)}`,
      stop: async () => {
        await Promise.all([postgres?.stop(), redis?.stop()]);
      },
    };
  } catch (error) {
    throw new Error(
      [
        'The tests need PostgreSQL and Redis.',
        'Set DATABASE_URL and REDIS_URL (on the machines here: `npm run test:local`, which uses',
        'postgres://postgres@127.0.0.1:5432/postgres and redis://127.0.0.1:6379),',
        `or run a container runtime for testcontainers. Testcontainers said: ${error instanceof Error ? error.message : String(error)}`,
      ].join('\n'),
      { cause: error },
    );
  }
}
