import { z } from 'zod';
import type { RedisTarget } from './redis.js';
import type { SecretKey } from './secret-box.js';

/**
 * The one configuration schema. Every key carries its description (`.describe`, from which the
 * README's table is generated: npm run docs:config), has a default that works on a developer
 * machine (except secrets in production), and is validated once at boot. Nothing else in the
 * codebase reads process.env.
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

const secretKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=_-]+$/, 'id:base64 (an id of letters, digits, - or _, then the key)')
  .transform((entry) => {
    const [id, encoded] = entry.split(':') as [string, string];
    return { id, key: Buffer.from(encoded, 'base64') };
  })
  .refine(({ key }) => key.length === 32, 'each key must be 32 bytes (openssl rand -base64 32)');

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z
  .object({
    NODE_ENV: z
      .enum(['development', 'test', 'production'])
      .default('development')
      .describe('`production` refuses HS256 secrets and requires a key source and PAYMENT_GATEWAY'),
    SERVICE_NAME: z
      .string()
      .default('cqrs-service-template')
      .describe('The `service` label of every metric and the `service` field of every log line'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port of the API (0: any free port)'),
    WORKER_HTTP_PORT: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(9464)
      .describe('Health and metrics port of a worker process'),
    DATABASE_URL: z
      .url()
      .default('postgres://postgres@127.0.0.1:5432/cqrs_dev')
      .describe('PostgreSQL primary: commands, the outbox, projections'),
    DATABASE_READ_URL: z.url().optional().describe('Optional read replica for query handlers (CloudNativePG `-ro` service)'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(10).describe('Connections per process in the PostgreSQL pool'),
    DATABASE_POOL_ACQUIRE_TIMEOUT: durationMs
      .default(parseDuration('5s'))
      .describe(
        'Longest a request or job waits for a pooled PostgreSQL connection (or for a new one to connect); then the API answers 503 with Retry-After and a job waits for the database, instead of queueing without bound',
      ),
    REDIS_URL: z
      .url()
      .default('redis://127.0.0.1:6379')
      .describe(
        'Redis for BullMQ, caches and rate limits (never needed by the write path). With REDIS_CLUSTER_NODES set, only its user, password and scheme (`rediss:` for TLS) are used',
      ),
    REDIS_CLUSTER_NODES: csv
      .pipe(z.array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'host:port')).min(1))
      .optional()
      .describe(
        'Redis Cluster seed nodes, `host:port` comma-separated: when set, every Redis client (queues, workers, caches, rate limits, health, doctor) talks Redis Cluster and discovers the other nodes itself (docs/deploy.md)',
      ),
    QUEUE_PREFIX: z
      .string()
      .min(1)
      .default('{cqrs}')
      .describe(
        "BullMQ's and the service's Redis key prefix; keep the braces: a Redis Cluster hash tag that puts every key in one slot",
      ),
    REDIS_EVICTION_POLICY_CHECK: z
      .enum(['refuse', 'warn'])
      .default('refuse')
      .describe('`refuse` stops the process when Redis may evict keys; `warn` only logs'),
    DEPENDENCY_WAIT: durationMs
      .default(parseDuration('60s'))
      .describe('How long a starting API, worker or `npm run dev` waits for PostgreSQL and Redis before exiting 1'),
    CONNECTION_WARNING_INTERVAL: durationMs
      .default(parseDuration('30s'))
      .describe('Repeated connection warnings: at most one line per dependency per this interval'),

    JWT_ISSUER: z.string().min(1).default('cqrs-service-template-dev').describe('Required `iss` claim of access tokens'),
    JWT_AUDIENCE: z.string().min(1).default('cqrs-service-template').describe('Required `aud` claim of access tokens'),
    JWT_JWKS_URI: z
      .url()
      .optional()
      .describe("Key source: the identity provider's JWKS (one of JWT_JWKS_URI, JWT_PUBLIC_KEY, JWT_SECRET)"),
    JWT_PUBLIC_KEY: z.string().optional().describe('Key source: one PEM public key (`\\n` for newlines)'),
    JWT_SECRET: z
      .string()
      .min(32, 'at least 32 characters')
      .optional()
      .describe('Key source: an HS256 shared secret (development only; refused in production)'),
    JWT_ALGORITHMS: csv
      .pipe(z.array(z.enum(['HS256', 'RS256', 'ES256', 'PS256'])).min(1))
      .optional()
      .describe('Accepted signing algorithms, comma-separated (default RS256,ES256 with a public key source)'),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(300)
      .default(30)
      .describe('Clock skew tolerated on `exp` and `nbf`'),
    JWT_MAX_TOKEN_LIFETIME: durationMs
      .default(parseDuration('24h'))
      .describe('Longest a token may live (`exp - iat`); longer ones, and ones issued in the future, are refused'),
    JWT_VERIFIED_CACHE_SIZE: z.coerce
      .number()
      .int()
      .min(0)
      .default(5000)
      .describe(
        'Verified tokens the API remembers (by the whole token), so a repeated token skips the signature check; 0 turns it off',
      ),
    JWT_VERIFIED_CACHE_TTL: durationMs
      .default(parseDuration('60s'))
      .describe(
        'Longest a verified token is remembered (never past its `exp`): bounds how long a key removed from the JWKS still admits its tokens beyond the JWKS cache',
      ),

    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info').describe('winston level'),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional().describe('`json` (default in production) or `pretty` (default elsewhere)'),

    RATE_LIMIT_POINTS: z.coerce
      .number()
      .int()
      .min(1)
      .default(300)
      .describe('Requests per principal per RATE_LIMIT_DURATION, shared through Redis'),
    RATE_LIMIT_ADDRESS_POINTS: z.coerce
      .number()
      .int()
      .min(1)
      .default(1200)
      .describe('Requests per client address per RATE_LIMIT_DURATION, counted before authentication (/v1, dashboard)'),
    TRUST_PROXY_HOPS: z.coerce
      .number()
      .int()
      .min(0)
      .max(10)
      .default(1)
      .describe('Proxies in front of the API that append to X-Forwarded-For (1: the Istio gateway; 0: direct clients)'),
    RATE_LIMIT_DURATION: durationMs.default(parseDuration('1m')).describe('Window of the rate limit'),
    BODY_LIMIT: z.string().default('100kb').describe('Largest accepted request body'),

    PAYMENT_GATEWAY: z
      .enum(['fake'])
      .optional()
      .describe(
        'The payment adapter; only `fake` ships (moves no money). Default outside production; production refuses to start unless it is named',
      ),
    PAYMENT_LATENCY: durationMs.default(parseDuration('50ms')).describe('Latency of the fake gateway'),
    PAYMENT_DECLINE_ABOVE_CENTS: z.coerce
      .number()
      .int()
      .min(0)
      .default(100_000)
      .describe('The fake gateway declines orders whose total is above this many minor units'),
    PAYMENT_FAILURE_RATE: z.coerce
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('Share (0..1) of authorizations the fake gateway fails transiently'),
    PAYMENT_ATTEMPTS: z.coerce
      .number()
      .int()
      .min(1)
      .default(5)
      .describe('Attempts of a payments job before it is dead-lettered (backoff from 500 ms)'),
    ORDER_PAYMENT_TIMEOUT: durationMs
      .default(parseDuration('15m'))
      .describe('An order still unpaid this long after it was placed expires'),

    WEBHOOK_TIMEOUT: durationMs.default(parseDuration('5s')).describe('Time a webhook receiver has to answer'),
    WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).default(8).describe('Attempts of a webhook job before it is dead-lettered'),
    WEBHOOK_RETRY_DELAY: durationMs
      .default(parseDuration('1s'))
      .describe('Wait before the first retry of a failed delivery; each further retry waits twice as long'),
    WEBHOOK_ALLOWED_HOSTS: csv
      .default([])
      .describe('Hosts a webhook may target even though they are not https or resolve to private or loopback ranges'),
    SECRET_ENCRYPTION_KEYS: csv
      .pipe(z.array(secretKey).min(1))
      .optional()
      .describe(
        'Keys sealing secrets at rest (AES-256-GCM): `id:base64(32 bytes)`, comma-separated; the first seals, all open (docs/security.md). Required in production',
      ),

    PROJECTION_ATTEMPTS: z.coerce
      .number()
      .int()
      .min(1)
      .default(8)
      .describe('Attempts of a projection job before it is dead-lettered (backoff from 250 ms)'),
    PROJECTION_BATCH_SIZE: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(50)
      .describe(
        'Most events in one projections job, applied in one transaction (the relay puts the events of a cycle in as few jobs as this allows; 1: a job per event)',
      ),
    PROJECTION_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe(
        'Projections jobs a worker runs at once (instead of WORKER_CONCURRENCY): a job is already a batch in one transaction, and at 1 no job pays a fetch that finds no next one; scale with replicas',
      ),
    WORKER_ROLES: csv
      .pipe(z.array(z.string().regex(/^[a-z][a-z-]*$/, 'a role name')).min(1))
      .default(['all'])
      .describe(
        "Roles of a worker process, comma-separated: `relay`, a queue's role (src/workers/queues.ts: projections, payments, expiry, webhooks) or `all`; checked at start",
      ),
    JOB_LOCK_DURATION: durationMs
      .default(parseDuration('30s'))
      .describe(
        "How long a job's lock lasts without renewal (renewed at half-time); a worker that dies silently releases its jobs after about this long",
      ),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10).describe('Jobs a worker runs at once, per queue'),
    PAYMENT_CONCURRENCY: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(50)
      .describe(
        "Payment jobs a worker runs at once (instead of WORKER_CONCURRENCY): each waits on the gateway and holds no database connection meanwhile, so the gateway's latency, not this process, bounds them; lower it to what the gateway allows per pod",
      ),
    RELAY_POLL_INTERVAL: durationMs.default(parseDuration('1s')).describe("Relay's safety poll, in case a NOTIFY is missed"),
    RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100).describe('Outbox rows the relay claims per cycle'),
    RELAY_LINGER: durationMs
      .default(parseDuration('10ms'))
      .refine((ms) => ms <= 1000, 'at most 1s')
      .describe(
        'Under load (RELAY_LINGER_ABOVE), how long the relay waits after a cycle before the next, so cycles and projection jobs carry more events; 0: off',
      ),
    RELAY_LINGER_ABOVE: z.coerce
      .number()
      .int()
      .min(1)
      .default(200)
      .describe('Outbox rows per second (over about the last second) from which the relay lingers; below it, none waits'),
    RELAY_PUBLISH_TIMEOUT: durationMs
      .default(parseDuration('5s'))
      .describe("The relay's bound on publishing a batch to Redis before it rolls back"),

    IDEMPOTENCY_RETENTION: durationMs
      .default(parseDuration('24h'))
      .refine((ms) => ms >= parseDuration('24h'), 'at least 24h')
      .describe('How long `Idempotency-Key` answers are kept (at least 24h)'),
    CONSISTENCY_WAIT_MAX: durationMs
      .default(parseDuration('5s'))
      .describe('Upper bound of a read-your-writes wait (`consistentWith`)'),
    ORDER_CACHE_SIZE: z.coerce
      .number()
      .int()
      .min(0)
      .default(5000)
      .describe(
        'order_view rows each API process keeps for `GET /v1/orders/{id}` (invalidated by LISTEN/NOTIFY on DATABASE_URL); 0 turns the cache off',
      ),
    ORDER_PAGE_CACHE_MB: z.coerce
      .number()
      .min(0)
      .default(4)
      .describe(
        'Megabytes of `GET /v1/orders` pages each API process keeps per caller and query (a page is void once any order of its tenant changes); off when DATABASE_READ_URL is set; 0 turns it off',
      ),
    ORDER_CACHE_TTL: durationMs
      .default(parseDuration('5s'))
      .describe(
        "Longest an order cache row or list page is served: the bound on a stale read when a change's announcement was lost (its writer died between commit and NOTIFY)",
      ),

    SHUTDOWN_DELAY_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Time between readiness turning 503 and the server closing (endpoint propagation)'),
    SHUTDOWN_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('Upper bound for draining in-flight requests and jobs before the process exits'),

    DEMO_SEED: bool.default(false).describe('Seed demo products and customers at start (local all-in-one)'),
    PRIVATE_SERVERS_DIR: z
      .string()
      .min(1)
      .default('.local')
      .describe('Data folder of the private PostgreSQL/Redis that `npm run quickstart` starts when none runs (git-ignored)'),
    SERVER_BIN_PATH: z
      .string()
      .optional()
      .describe(
        "Where quickstart looks for initdb/postgres and redis-server (default: PATH, then Debian's and Homebrew's folders)",
      ),
    PATH: z.string().default('').describe("The shell's search path (read only for SERVER_BIN_PATH's default)"),
    CHROMIUM_PATH: z
      .string()
      .min(1)
      .default('/usr/bin/chromium')
      .describe("Debian's chromium for the operator dashboard's browser test (optional; `npm run doctor` looks for it)"),
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
    if (env.NODE_ENV === 'production' && !env.SECRET_ENCRYPTION_KEYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SECRET_ENCRYPTION_KEYS'],
        message: 'required in production: id:base64 of 32 random bytes (openssl rand -base64 32)',
      });
    }
    if (env.REDIS_CLUSTER_NODES && !/\{[^}]+\}/.test(env.QUEUE_PREFIX)) {
      ctx.addIssue({
        code: 'custom',
        path: ['QUEUE_PREFIX'],
        message:
          'on a Redis Cluster it needs a hash tag such as {cqrs}: BullMQ scripts touch several keys of a queue at once (CROSSSLOT otherwise)',
      });
    }
    if (env.REDIS_CLUSTER_NODES && redisDatabaseOf(env.REDIS_URL) !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'a Redis Cluster has only database 0: drop the /<db> path from REDIS_URL',
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

export interface ConfigKey {
  key: string;
  /** As an operator would write it (`15m`, not 900000); empty when the key has no default. */
  default: string;
  description: string;
}

/** Every key, its default and its description, in schema order (the README's table). */
export function configReference(): ConfigKey[] {
  return Object.entries(schema.shape).map(([key, field]) => ({
    key,
    default: defaultOf(field),
    description: field.description ?? '',
  }));
}

function defaultOf(field: z.ZodType): string {
  const def = field._zod.def as { type: string; defaultValue?: unknown; innerType?: z.ZodType };
  if (def.type !== 'default') return '';
  const value = def.defaultValue;
  const isDuration = typeof value === 'number' && def.innerType?._zod.def.type === 'pipe';
  if (isDuration) return formatDuration(value);
  return Array.isArray(value) ? value.join(',') : String(value);
}

function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const [unit, size] = units.find(([, size]) => ms >= size && ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

/** Development-only signing secret, used when no key source is configured outside production. */
export const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

/** Development-only key for secrets at rest, used when SECRET_ENCRYPTION_KEYS is not set outside production. */
const DEV_SECRET_KEY: SecretKey = { id: 'dev', key: Buffer.from('dev-only-secret-key-change-me-32') };

export interface Config extends Env {
  jwt: { algorithms: string[]; secret?: string; publicKey?: string; jwksUri?: string };
  secretKeys: [SecretKey, ...SecretKey[]];
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
  const secretKeys = (env.SECRET_ENCRYPTION_KEYS as [SecretKey, ...SecretKey[]] | undefined) ?? [DEV_SECRET_KEY];
  return {
    ...env,
    jwt: jwtSettings(env),
    secretKeys,
    logFormat: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty'),
  };
}

/**
 * Bytes of list pages an API process keeps (ORDER_PAGE_CACHE_MB), 0 when reads go to a replica:
 * one that lags could answer a page read begun after a change was heard with the rows from before.
 */
export function orderPageCacheBytes(env: Pick<Env, 'ORDER_PAGE_CACHE_MB' | 'DATABASE_READ_URL'>): number {
  return env.DATABASE_READ_URL ? 0 : Math.floor(env.ORDER_PAGE_CACHE_MB * 2 ** 20);
}

/**
 * Where every Redis client of a process connects: REDIS_URL, or a cluster (REDIS_CLUSTER_NODES).
 * Derived on each call, so a config copied with another REDIS_URL (the doctor, quickstart) follows it.
 */
export function redisTarget(env: Pick<Env, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  if (!env.REDIS_CLUSTER_NODES) return { url: env.REDIS_URL };
  const clusterNodes = env.REDIS_CLUSTER_NODES.map((node) => {
    const at = node.lastIndexOf(':');
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
  return { url: env.REDIS_URL, clusterNodes };
}

function redisDatabaseOf(url: string): number {
  const path = new URL(url).pathname;
  return path.length > 1 ? Number(path.slice(1)) : 0;
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
