import { createHash } from 'node:crypto';
import type { Principal } from '../../policies/principal.js';
import type { RedisClient } from '../../platform/redis.js';

/**
 * A Redis cache of catalogue pages. Each tenant has a generation number; keys include it, and
 * the projection bumps it after every change, so a page computed before a change can never be
 * served after it (a slow reader writes under the old generation, which nobody reads any more).
 * Redis being down only costs the cache: reads go to PostgreSQL.
 *
 * Redis runs `noeviction` (BullMQ needs it), so what callers can make the cache hold is bounded:
 * keys are digests of validated input, and one principal may add at most `pagesPerPrincipal`
 * pages per TTL window; beyond that its pages are served uncached.
 */
export class ProductCatalogCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds = 300,
    private readonly pagesPerPrincipal = 50,
  ) {}

  async get(tenantId: string, page: string): Promise<{ generation: string; hit: unknown } | null> {
    try {
      const generation = (await this.redis.get(this.generationKey(tenantId))) ?? '0';
      const cached = await this.redis.get(this.pageKey(tenantId, generation, page));
      return { generation, hit: cached ? (JSON.parse(cached) as unknown) : undefined };
    } catch {
      return null;
    }
  }

  async set(principal: Principal, generation: string, page: string, value: unknown): Promise<void> {
    try {
      const quota = this.quotaKey(principal);
      const [[, added] = []] = (await this.redis.multi().incr(quota).expire(quota, this.ttlSeconds, 'NX').exec()) ?? [];
      if (Number(added) > this.pagesPerPrincipal) return;
      await this.redis.set(this.pageKey(principal.tenantId, generation, page), JSON.stringify(value), 'EX', this.ttlSeconds);
    } catch {
      // a cache that cannot be written is only a slower read
    }
  }

  /** Called by the projection after its change committed. */
  async invalidate(tenantId: string): Promise<void> {
    await this.redis.incr(this.generationKey(tenantId));
  }

  private generationKey(tenantId: string): string {
    return `${this.prefix}:catalog:${tenantId}:generation`;
  }

  private quotaKey(principal: Principal): string {
    const who = createHash('sha256').update(principal.id).digest('base64url').slice(0, 22);
    return `${this.prefix}:catalog:${principal.tenantId}:quota:${who}`;
  }

  private pageKey(tenantId: string, generation: string, page: string): string {
    return `${this.prefix}:catalog:${tenantId}:${generation}:${page}`;
  }
}
