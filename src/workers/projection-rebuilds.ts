import type { Redis } from 'ioredis';
import { AppError, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Projection } from '../queries/shared/projection.js';
import type { ProjectionRebuilder, RebuildProgress } from '../queries/shared/projection-rebuilder.js';

export class RebuildRunningError extends AppError {
  constructor(projection: string) {
    super('conflict', 'projection.rebuild-running', `A rebuild of ${projection} is already running`);
  }
}

/**
 * Rebuilds started over HTTP run in the background; their progress lives in Redis so any API
 * replica can report it, and a lock keeps one rebuild per projection at a time.
 */
export class ProjectionRebuilds {
  constructor(
    private readonly rebuilder: ProjectionRebuilder,
    private readonly projections: Readonly<Record<string, Projection>>,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  projectionNamed(name: string): Projection {
    const projection = Object.values(this.projections).find((candidate) => candidate.name === name);
    if (!projection) throw new NotFoundError('Projection', name);
    return projection;
  }

  async start(name: string): Promise<RebuildProgress> {
    const projection = this.projectionNamed(name);
    const locked = await this.redis.set(this.key(name, 'lock'), '1', 'EX', 3600, 'NX');
    if (!locked) throw new RebuildRunningError(name);
    let latest: RebuildProgress = {
      projection: name,
      total: 0,
      applied: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    await this.save(latest);
    void this.rebuilder
      .rebuild(projection, (progress) => {
        latest = { ...progress };
        void this.save(latest);
      })
      .catch((error: unknown) => this.logger.error('projection rebuild failed', { projection: name, error: String(error) }))
      .finally(() => void this.redis.del(this.key(name, 'lock')).then(() => this.save(latest)));
    return latest;
  }

  async status(name: string): Promise<RebuildProgress> {
    this.projectionNamed(name);
    const saved = await this.redis.get(this.key(name, 'progress'));
    if (!saved) throw new NotFoundError('Rebuild', name);
    return JSON.parse(saved) as RebuildProgress;
  }

  private async save(progress: RebuildProgress): Promise<void> {
    await this.redis
      .set(this.key(progress.projection, 'progress'), JSON.stringify(progress), 'EX', 7 * 86400)
      .catch(() => undefined);
  }

  private key(name: string, what: string): string {
    return `${this.prefix}:rebuild:${name}:${what}`;
  }
}
