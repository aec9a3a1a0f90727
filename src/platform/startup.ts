import { redisTarget, type Config } from './config.js';
import { probePostgres } from './db/database-admin.js';
import { DependencyError, waitUntilReachable } from './dependencies.js';
import { createLogger, type Logger } from './logger.js';
import { checkEvictionPolicy, describeRedis, EvictionPolicyError, judgeEvictionPolicy, probeRedis } from './redis.js';

/** What a process entry needs before it composes the service. */
export interface Needs {
  /** Long-running processes wait (quietly, up to DEPENDENCY_WAIT); one-shot commands try once. */
  wait: boolean;
  postgres: boolean;
  /**
   * `required`: Redis must answer. `checkPolicy`: its eviction policy is checked; in `refuse` mode
   * that alone makes Redis required at boot (the API's write path needs only PostgreSQL, but the
   * check is never skipped).
   */
  redis?: { required: boolean; checkPolicy: boolean };
}

/**
 * For process entries: waits for what the process needs and, when a dependency stays away or is
 * refused, logs one clear message (the URL tried, the ways out) and exits 1. Never a stack trace.
 */
export async function awaitDependenciesOrExit(config: Config, needs: Needs, logger = startupLogger(config)): Promise<void> {
  try {
    await awaitDependencies(config, needs, logger);
  } catch (error) {
    if (!(error instanceof DependencyError || error instanceof EvictionPolicyError)) throw error;
    logger.error(error.message);
    process.exit(1);
  }
}

export async function awaitDependencies(config: Config, needs: Needs, logger: Logger): Promise<void> {
  const waiting = {
    waitMs: needs.wait ? config.DEPENDENCY_WAIT : 0,
    logger,
    noticeIntervalMs: config.CONNECTION_WARNING_INTERVAL,
  };
  if (needs.postgres) {
    await waitUntilReachable('PostgreSQL', config.DATABASE_URL, () => probePostgres(config.DATABASE_URL), waiting);
  }
  if (!needs.redis) return;
  const mode = config.REDIS_EVICTION_POLICY_CHECK;
  const target = redisTarget(config);
  const mustAnswer = needs.redis.required || (needs.redis.checkPolicy && mode === 'refuse');
  if (mustAnswer) {
    const facts = await waitUntilReachable('Redis', describeRedis(target), () => probeRedis(target), waiting);
    if (needs.redis.checkPolicy) judgeEvictionPolicy(facts.maxmemoryPolicy, mode, logger);
  } else if (needs.redis.checkPolicy) {
    await checkEvictionPolicy(target, mode, logger);
  }
}

function startupLogger(config: Config): Logger {
  return createLogger({ level: config.LOG_LEVEL, format: config.logFormat, service: config.SERVICE_NAME });
}
