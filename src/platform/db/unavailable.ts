/**
 * Whether `error` means the database could not be reached (refused, reset, shutting down) rather
 * than that a query was wrong. Such a request is worth retrying later: the API answers 503.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, name, message } = current as { code?: unknown; name?: unknown; message?: unknown };
    // 08P01 sits in the connection class but means a message PostgreSQL could not parse (a NUL
    // byte inside the SQL text, say): the request's fault, never worth a retry.
    if (code === PROTOCOL_VIOLATION) return false;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || /^(08|57P0)/.test(code))) return true;
    if (name === 'ConnectionException') return true;
    // pg-pool's own errors carry no code: a connection that dropped, and no connection free (or
    // connected) within DATABASE_POOL_ACQUIRE_TIMEOUT, which is overload: retry later as well.
    if (
      typeof message === 'string' &&
      /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/.test(message)
    )
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

const PROTOCOL_VIOLATION = '08P01';
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
