import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from './logger.js';

/**
 * What a person reads when PostgreSQL or Redis is not there: the URL that was tried and the two
 * ways out, in one line, instead of a driver's stack trace.
 */
export type Dependency = 'PostgreSQL' | 'Redis';

const START_IT: Record<Dependency, string> = {
  PostgreSQL: 'start your local PostgreSQL (e.g. `sudo service postgresql start`, `brew services start postgresql`)',
  Redis: 'start your local Redis (e.g. `sudo service redis-server start`, `brew services start redis`)',
};

export const COMPOSE_WAY_OUT = '`docker compose up -d postgres redis`';

/** Connection-level failures: nothing answers (yet). Anything else (a wrong password) is not retried. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P03', // PostgreSQL: the database system is starting up
]);

export class DependencyError extends Error {
  readonly unreachable: boolean;
  /** Why, in a few words: `connection refused`, `ETIMEDOUT`, the server's own message. */
  readonly reason: string;

  constructor(
    readonly dependency: Dependency,
    readonly url: string,
    override readonly cause: unknown,
  ) {
    const unreachable = isUnreachable(cause);
    super(unreachable ? unreachableMessage(dependency, url, cause) : refusedMessage(dependency, url, cause));
    this.name = 'DependencyError';
    this.unreachable = unreachable;
    this.reason = reasonOf(cause);
  }
}

export function unreachableMessage(dependency: Dependency, url: string, cause?: unknown): string {
  const reason = cause === undefined ? '' : ` (${reasonOf(cause)})`;
  return `${dependency} is not reachable at ${redactUrl(url)}${reason}. ${waysOut(dependency)}; \`npm run doctor\` checks everything.`;
}

/** The two ways out: start the local service, or the compose file's servers. */
export function waysOut(dependency: Dependency): string {
  return `Either ${START_IT[dependency]}, or run ${COMPOSE_WAY_OUT}`;
}

function refusedMessage(dependency: Dependency, url: string, cause: unknown): string {
  return `${dependency} at ${redactUrl(url)} answered but refused us: ${reasonOf(cause)}. Check the URL and its credentials.`;
}

/** A URL fit for a log line: the password (if any) is masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

export function isUnreachable(error: unknown): boolean {
  if (error instanceof DependencyError) return error.unreachable;
  const codes = [codeOf(error), ...innerErrors(error).map(codeOf)];
  if (codes.some((code) => code !== undefined && UNREACHABLE_CODES.has(code))) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /ECONNREFUSED|timeout|timed out|Connection is closed|Connection terminated/i.test(message);
}

function reasonOf(error: unknown): string {
  const code = codeOf(error) ?? innerErrors(error).map(codeOf).find(Boolean);
  const message = error instanceof Error ? error.message : String(error);
  if (code && UNREACHABLE_CODES.has(code)) return code === 'ECONNREFUSED' ? 'connection refused' : code;
  return message || code || 'unknown error';
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function innerErrors(error: unknown): unknown[] {
  return error instanceof AggregateError ? error.errors : [];
}

export interface WaitOptions {
  /** How long to keep retrying; 0 tries once. */
  waitMs: number;
  logger: Logger;
  /** At most one "still waiting" line per this interval. */
  noticeIntervalMs: number;
}

/**
 * Runs `probe` until it succeeds, retrying quietly (capped backoff, one notice per interval)
 * while the dependency is unreachable, for at most `waitMs`. Rejects with a DependencyError.
 */
export async function waitUntilReachable<T>(
  dependency: Dependency,
  url: string,
  probe: () => Promise<T>,
  { waitMs, logger, noticeIntervalMs }: WaitOptions,
): Promise<T> {
  const started = Date.now();
  let lastNotice = 0;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await probe();
      if (attempt > 0) logger.info(`${dependency} is reachable now`, { url: redactUrl(url) });
      return result;
    } catch (cause) {
      const error = cause instanceof DependencyError ? cause : new DependencyError(dependency, url, cause);
      const left = started + waitMs - Date.now();
      if (!error.unreachable || left <= 0) throw error;
      if (attempt === 0) logger.warn(`${error.message} Waiting up to ${Math.round(waitMs / 1000)} s.`);
      else if (Date.now() - lastNotice >= noticeIntervalMs)
        logger.info(`still waiting for ${dependency}`, { url: redactUrl(url) });
      if (attempt === 0 || Date.now() - lastNotice >= noticeIntervalMs) lastNotice = Date.now();
      await delay(Math.min(200 * 2 ** attempt, 2_000, left));
    }
  }
}
