import type { Pool, PoolClient } from 'pg';

/**
 * Hands a checked-out connection back to the pool as soon as the server ends it.
 *
 * Kysely (under MikroORM 7) returns a transaction's connection to the pool only after its COMMIT or
 * ROLLBACK succeeds (kysely-org/kysely#1990, open). When PostgreSQL dies mid-transaction both fail,
 * so every transaction in flight at a crash kept its connection checked out forever: once the server
 * was back the pool was full of dead clients and every later query waited for good (the worker
 * never recovered without a restart). Here a checked-out client whose connection ends is released
 * as broken, which the pool discards (it opens a fresh one on demand); a later release by its holder
 * is then a no-op instead of pg-pool's double-release error.
 */
export function releaseDeadConnections(pool: Pool): void {
  const connect = pool.connect.bind(pool) as (callback?: ConnectCallback) => Promise<PoolClient> | void;
  pool.connect = ((callback?: ConnectCallback) => {
    if (!callback) return (connect() as Promise<PoolClient>).then(releasedWhenEnded);
    return connect((error, client, done) => {
      if (error || !client) return callback(error, client, done);
      const guarded = releasedWhenEnded(client);
      callback(undefined, guarded, guarded.release);
    });
  }) as Pool['connect'];
}

type ConnectCallback = (error: Error | undefined, client: PoolClient | undefined, done: PoolClient['release']) => void;

function releasedWhenEnded(client: PoolClient): PoolClient {
  const release = client.release;
  let released = false;
  const releaseOnce = (error?: Error | boolean) => {
    if (released) return;
    released = true;
    client.removeListener('end', onEnd);
    release(error);
  };
  const onEnd = () => releaseOnce(new Error('the server ended the connection while it was checked out'));
  client.once('end', onEnd);
  client.release = releaseOnce;
  return client;
}
