import type { Redis } from 'ioredis';

/**
 * A Redis cache of catalogue pages. Each tenant has a generation number; keys include it, and
 * the projection bumps it after every change, so a page computed before a change can never be
 * served after it (a slow reader writes under the old generation, which nobody reads any more).
 * Redis being down only costs the cache: reads go to PostgreSQL.
 */
export class ProductCatalogCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 300,
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

  async set(tenantId: string, generation: string, page: string, value: unknown): Promise<void> {
    await this.redis
      .set(this.pageKey(tenantId, generation, page), JSON.stringify(value), 'EX', this.ttlSeconds)
      .catch(() => undefined);
  }

  /** Called by the projection after its change committed. */
  async invalidate(tenantId: string): Promise<void> {
    await this.redis.incr(this.generationKey(tenantId));
  }

  private generationKey(tenantId: string): string {
    return `${this.prefix}:catalog:${tenantId}:generation`;
  }

  private pageKey(tenantId: string, generation: string, page: string): string {
    return `${this.prefix}:catalog:${tenantId}:${generation}:${page}`;
  }
}
