import type { Redis } from 'ioredis';
import { AppError, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { redisReady } from '../platform/redis.js';
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

  /** Starts a rebuild in the background and returns its first progress report (HTTP). */
  async start(name: string): Promise<RebuildProgress> {
    let first: RebuildProgress | undefined;
    const reported = new Promise<RebuildProgress>((resolve, reject) => {
      this.run(name, (progress) => {
        first ??= { ...progress };
        resolve(first);
      }).catch((error: unknown) => {
        if (!first) return reject(error); // refused before it began (unknown projection, already running)
        this.logger.error('projection rebuild failed', { projection: name, error: String(error) });
      });
    });
    return reported;
  }

  /**
   * Rebuilds `name` to completion (the ops CLI waits on this): one rebuild per projection at a time,
   * whoever starts it, with its progress kept in Redis for `status`.
   */
  async run(name: string, onProgress: (progress: RebuildProgress) => void = () => {}): Promise<RebuildProgress> {
    const projection = this.projectionNamed(name);
    await redisReady(this.redis);
    const locked = await this.redis.set(this.key(name, 'lock'), '1', 'EX', 3600, 'NX');
    if (!locked) throw new RebuildRunningError(name);
    try {
      return await this.rebuilder.rebuild(projection, (progress) => {
        void this.save(progress);
        onProgress(progress);
      });
    } finally {
      await this.redis.del(this.key(name, 'lock'));
    }
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
