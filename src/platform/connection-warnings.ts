import type { Logger } from './logger.js';

/**
 * Connection warnings, one line per dependency per interval. While Redis is away every queue's
 * worker and every client reports every reconnect attempt; a person needs to read it once, then
 * again later with how often it happened in between.
 */
export class ConnectionWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(dependency: string, message: string, fields: Record<string, unknown> = {}): void {
    const seen = this.last.get(dependency);
    if (seen && this.now() - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    const repeated = seen?.suppressed ? { repeatedSinceLastLine: seen.suppressed } : {};
    this.logger.warn(message, { dependency, ...fields, ...repeated });
    this.last.set(dependency, { at: this.now(), suppressed: 0 });
  }
}
