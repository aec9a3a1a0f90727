import { z } from 'zod';

/**
 * The one configuration schema. Every key documents itself, has a default that works on a
 * developer machine (except secrets in production), and is validated once at boot.
 * Nothing else in the codebase reads process.env.
 */
const durationMs = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)?$/, 'a duration such as 500ms, 30s, 15m, 24h or 7d')
  .transform(parseDuration);

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    SERVICE_NAME: z.string().default('cqrs-service-template'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Health and metrics port of a worker process. */
    WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/cqrs_dev'),
    /** Optional read replica for query handlers (CloudNativePG `-ro` service). */
    DATABASE_READ_URL: z.url().optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(10),
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    /** BullMQ key prefix; the braces are a Redis Cluster hash tag. */
    QUEUE_PREFIX: z.string().min(1).default('{cqrs}'),
    /** `refuse` stops the process when Redis may evict keys; `warn` only logs. */
    REDIS_EVICTION_POLICY_CHECK: z.enum(['refuse', 'warn']).default('refuse'),

    JWT_ISSUER: z.string().min(1).default('cqrs-service-template-dev'),
    JWT_AUDIENCE: z.string().min(1).default('cqrs-service-template'),
    JWT_JWKS_URI: z.url().optional(),
    JWT_PUBLIC_KEY: z.string().optional(),
    JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    JWT_ALGORITHMS: csv.pipe(z.array(z.enum(['HS256', 'RS256', 'ES256', 'PS256'])).min(1)).optional(),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),

    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    /** `json` in production; `pretty` is the readable local format. */
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),

    RATE_LIMIT_POINTS: z.coerce.number().int().min(1).default(300),
    RATE_LIMIT_DURATION: durationMs.default(parseDuration('1m')),
    BODY_LIMIT: z.string().default('100kb'),

    /**
     * The payment adapter. The template ships only `fake` (deterministic, no money moves): the default
     * outside production; production refuses to start unless it is named here explicitly.
     */
    PAYMENT_GATEWAY: z.enum(['fake']).optional(),
    PAYMENT_LATENCY: durationMs.default(parseDuration('50ms')),
    /** The fake gateway declines orders whose total is above this many minor units. */
    PAYMENT_DECLINE_ABOVE_CENTS: z.coerce.number().int().min(0).default(100_000),
    /** Share (0..1) of authorizations the fake gateway fails transiently. */
    PAYMENT_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    PAYMENT_ATTEMPTS: z.coerce.number().int().min(1).default(5),
    ORDER_PAYMENT_TIMEOUT: durationMs.default(parseDuration('15m')),

    WEBHOOK_TIMEOUT: durationMs.default(parseDuration('5s')),
    WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).default(8),
    /** Wait before the first retry of a failed delivery; each further retry waits twice as long. */
    WEBHOOK_RETRY_DELAY: durationMs.default(parseDuration('1s')),
    /** Hosts a webhook may target even though they resolve to private or loopback ranges. */
    WEBHOOK_ALLOWED_HOSTS: csv.default([]),

    /** Attempts of a projection job before it is dead-lettered (backoff starts at 250 ms). */
    PROJECTION_ATTEMPTS: z.coerce.number().int().min(1).default(8),
    /**
     * Worker roles this process runs, comma-separated: `relay`, a queue's role (declared in
     * src/workers/queues.ts: projections, payments, expiry, webhooks) or `all`. Checked at start.
     */
    WORKER_ROLES: csv.pipe(z.array(z.string().regex(/^[a-z][a-z-]*$/, 'a role name')).min(1)).default(['all']),
    /**
     * How long a job's lock lasts without renewal (renewed at half-time while it runs). A worker
     * that dies silently releases its jobs to others after about this long.
     */
    JOB_LOCK_DURATION: durationMs.default(parseDuration('30s')),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
    /** Relay wake-up poll, in case a NOTIFY is missed. */
    RELAY_POLL_INTERVAL: durationMs.default(parseDuration('1s')),
    RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    RELAY_PUBLISH_TIMEOUT: durationMs.default(parseDuration('5s')),

    IDEMPOTENCY_RETENTION: durationMs.default(parseDuration('24h')).refine((ms) => ms >= parseDuration('24h'), 'at least 24h'),
    CONSISTENCY_WAIT_MAX: durationMs.default(parseDuration('5s')),

    /** Time between readiness turning 503 and the server closing (endpoint propagation). */
    SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(0),
    /** Upper bound for draining in-flight requests and jobs before the process exits. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),

    DEMO_SEED: bool.default(false),
  })
  .superRefine((env, ctx) => {
    const keySources = [env.JWT_JWKS_URI, env.JWT_PUBLIC_KEY, env.JWT_SECRET].filter(Boolean);
    if (keySources.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'set exactly one of JWT_JWKS_URI, JWT_PUBLIC_KEY, JWT_SECRET',
      });
    }
    if (env.NODE_ENV === 'production' && env.JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'HS256 shared secrets are refused in production; use JWT_JWKS_URI or JWT_PUBLIC_KEY',
      });
    }
    if (env.NODE_ENV === 'production' && !env.PAYMENT_GATEWAY) {
      ctx.addIssue({
        code: 'custom',
        path: ['PAYMENT_GATEWAY'],
        message: 'required in production: no real adapter is wired; set PAYMENT_GATEWAY=fake to run the fake knowingly',
      });
    }
    if (env.NODE_ENV === 'production' && keySources.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_JWKS_URI'],
        message: 'required in production (or JWT_PUBLIC_KEY)',
      });
    }
  });

export type Env = z.infer<typeof schema>;

/** Development-only signing secret, used when no key source is configured outside production. */
export const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

export interface Config extends Env {
  jwt: { algorithms: string[]; secret?: string; publicKey?: string; jwksUri?: string };
  logFormat: 'json' | 'pretty';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const blanksRemoved = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(blanksRemoved);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const env = parsed.data;
  return { ...env, jwt: jwtSettings(env), logFormat: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty') };
}

function jwtSettings(env: Env): Config['jwt'] {
  if (env.JWT_JWKS_URI) return { jwksUri: env.JWT_JWKS_URI, algorithms: env.JWT_ALGORITHMS ?? ['RS256', 'ES256'] };
  if (env.JWT_PUBLIC_KEY) {
    return { publicKey: env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n'), algorithms: env.JWT_ALGORITHMS ?? ['RS256', 'ES256'] };
  }
  return { secret: env.JWT_SECRET ?? DEV_JWT_SECRET, algorithms: ['HS256'] };
}

/** For process entries: a bad configuration prints which variables are wrong and exits 1. */
export function loadConfigOrExit(source: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1;
  return Number(match[1]) * unit;
}
