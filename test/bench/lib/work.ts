import { Redis } from 'ioredis';
import { procCpuMs } from './processes.js';
import { withClient } from './context.js';

/**
 * What one unit of work (an order) cost outside the service's own processes, counted rather than
 * timed: Redis commands (INFO commandstats, server-wide: the bench runs one service at a time),
 * PostgreSQL transactions of the run's database (pg_stat_database; backends report at most once a
 * second, so `end` waits for that) and the CPU time of that database's backends (/proc, summed
 * over the sessions open at the end; a session that closed during the window is missed).
 */
export interface WorkPerUnit {
  redisCommandsPerUnit: number;
  /** The commands that moved most, per unit. */
  topRedisCommands: Record<string, number>;
  transactionsPerUnit: number;
  postgresCpuMsPerUnit: number;
}

interface Snapshot {
  redis: Map<string, number>;
  transactions: number;
  backendCpuMs: Map<number, number>;
}

export async function workWindow(redisUrl: string, databaseUrl: string): Promise<{ end(units: number): Promise<WorkPerUnit> }> {
  const before = await snapshot(redisUrl, databaseUrl);
  return {
    async end(units) {
      // Backends flush their statistics at most once a second, when idle.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const after = await snapshot(redisUrl, databaseUrl);
      const per = (value: number) => Math.round((value / units) * 100) / 100;
      const commands = [...after.redis].map(([name, calls]) => [name, calls - (before.redis.get(name) ?? 0)] as const);
      let backendMs = 0;
      for (const [pid, ms] of after.backendCpuMs) backendMs += ms - (before.backendCpuMs.get(pid) ?? 0);
      return {
        redisCommandsPerUnit: per(commands.reduce((sum, [, calls]) => sum + calls, 0)),
        topRedisCommands: Object.fromEntries(
          commands
            .filter(([, calls]) => calls > 0)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 10)
            .map(([name, calls]) => [name, per(calls)]),
        ),
        transactionsPerUnit: per(after.transactions - before.transactions),
        postgresCpuMsPerUnit: per(backendMs),
      };
    },
  };
}

async function snapshot(redisUrl: string, databaseUrl: string): Promise<Snapshot> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('commandstats');
    const calls = new Map<string, number>();
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
    return await withClient(databaseUrl, async (client) => {
      const { rows } = await client.query<{ transactions: string; pids: number[] }>(`
        select (select xact_commit + xact_rollback from pg_stat_database where datname = current_database()) as transactions,
               (select coalesce(array_agg(pid), '{}') from pg_stat_activity
                 where datname = current_database() and pid <> pg_backend_pid()) as pids`);
      const { transactions, pids } = rows[0]!;
      const backendCpuMs = new Map<number, number>();
      for (const pid of pids) {
        const ms = procCpuMs(pid);
        if (ms !== undefined) backendCpuMs.set(pid, ms);
      }
      return { redis: calls, transactions: Number(transactions), backendCpuMs };
    });
  } finally {
    redis.disconnect();
  }
}
