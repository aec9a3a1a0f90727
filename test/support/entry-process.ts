import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface EntryProcess {
  child: ChildProcess;
  /** Every line written so far, stdout and stderr together. */
  lines: string[];
  /** Resolves with the first line (already written or to come) that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null>;
  stop(): Promise<void>;
  /** Sends `signal` to the process and its children, as a terminal's Ctrl-C does (needs `group`). */
  signalGroup(signal: NodeJS.Signals): void;
}

/** Runs an entry point as a real process (tsx, Node 24), the way a person starts it. */
export function runEntry(entry: string, args: string[], env: Record<string, string>, { group = false } = {}): EntryProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) waiter.resolve(line);
    });
  }
  // 'close', not 'exit': every line has been read by then.
  const exit = once(child, 'close').then(([code]) => code as number | null);
  return {
    child,
    lines,
    waitFor(pattern, timeoutMs = 60_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => reject(new Error(`no line matched ${pattern} ${why}:\n${lines.join('\n')}`));
        const timer = setTimeout(() => fail(`in ${timeoutMs} ms`), timeoutMs);
        void exit.then((code) => (clearTimeout(timer), fail(`before the process exited (${code})`)));
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
    exited: () => exit,
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exit;
    },
  };
}
