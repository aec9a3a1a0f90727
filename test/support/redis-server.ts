import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A throwaway redis-server on `port`, for outage tests (the machines here have the binary). */
export async function startRedis(port: number, extraArgs: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const failed = once(child, 'error').then(([error]) => {
    throw new Error(`redis-server is needed for outage tests: ${(error as Error).message}`);
  });
  const ready = (async () => {
    let output = '';
    for await (const chunk of child.stdout!) {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) return child;
    }
    throw new Error(`redis-server on ${port} exited before it was ready: ${output}`);
  })();
  return Promise.race([ready, failed]);
}

export async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
