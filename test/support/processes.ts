import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** How to start a Node process for a test, a fault scenario or a benchmark. */
export interface ProcessOptions {
  /** Node's arguments: flags, then the entry and its own arguments. */
  args: string[];
  env?: Record<string, string>;
  /** Start from PATH and HOME only, instead of this process's environment. */
  cleanEnv?: boolean;
  cwd?: string;
  /** Its own process group, so `signalGroup` reaches its children too (as a terminal's Ctrl-C does). */
  group?: boolean;
  /** Append its output to this file (as a container runtime collects it) instead of keeping its lines. */
  logFile?: string;
  /** Keep only about this many recent lines (long-running processes). */
  maxLines?: number;
}

export interface RunningProcess {
  child: ChildProcess;
  pid: number;
  /** Every line written so far, stdout and stderr together (none with `logFile`). */
  lines: string[];
  /** The same lines, per stream. */
  stdout: string[];
  stderr: string[];
  /** Resolves with the first line (already written or to come) that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first JSON log record (already written or to come) whose message is `message`. */
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null>;
  /** Resolves with the code and signal once the process has ended. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Sends `signal` (SIGTERM unless told) when it still runs, and waits until it has ended. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  signalGroup(signal: NodeJS.Signals): void;
}

/** The one way the tests start a Node process: its lines are kept and can be waited for. */
export function startProcess(options: ProcessOptions): RunningProcess {
  const base = options.cleanEnv ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } : process.env;
  const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...base, ...options.env },
    stdio: log === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', log, log],
    detached: options.group ?? false,
  });
  if (log !== undefined) closeSync(log);
  const lines: string[] = [];
  const perStream = { stdout: [] as string[], stderr: [] as string[] };
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  for (const [name, stream] of [
    ['stdout', child.stdout],
    ['stderr', child.stderr],
  ] as const) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      perStream[name].push(line);
      if (options.maxLines && perStream[name].length > options.maxLines) perStream[name].splice(0, options.maxLines / 2);
      if (options.maxLines && lines.length > options.maxLines) lines.splice(0, lines.length - options.maxLines / 2);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) waiter.resolve(line);
    });
  }
  const failed = once(child, 'error').then(([error]) => ({ code: null, signal: null, error: error as Error }));
  // 'close', not 'exit': every line has been read by then.
  const ended = Promise.race([
    once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null })),
    failed,
  ]);
  const waitFor = (pattern: RegExp, timeoutMs = 60_000): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`no line matched ${pattern} ${why}:\n${lines.slice(-40).join('\n')}`));
      const timer = setTimeout(() => fail(`in ${timeoutMs} ms`), timeoutMs);
      void ended.then(({ code, signal }) => (clearTimeout(timer), fail(`before the process exited (${code ?? signal})`)));
      waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  };
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid!,
    lines,
    ...perStream,
    waitFor,
    async waitForLog(message, timeoutMs) {
      const escaped = JSON.stringify(message).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const line = await waitFor(new RegExp(`"message":${escaped}`), timeoutMs);
      return JSON.parse(line) as Record<string, unknown>;
    },
    exited: () => ended.then(({ code }) => code),
    ended,
    alive,
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    async stop(signal = 'SIGTERM') {
      if (alive()) child.kill(signal);
      await ended;
    },
  };
}

/** Runs a TypeScript entry point as a real process (tsx, Node 24), the way a person starts it. */
export function runEntry(entry: string, args: string[], env: Record<string, string>, { group = false } = {}): RunningProcess {
  return startProcess({ args: ['--import', 'tsx', entry, ...args], env: { LOG_LEVEL: 'info', ...env }, group });
}

/** Runs a TypeScript entry point to its end (a CLI, a start that must fail): its exit code and what it wrote to each stream. */
export async function runToEnd(
  entry: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const running = startProcess({ args: ['--import', 'tsx', entry, ...args], env });
  const status = await running.exited();
  return { status, stdout: running.stdout.join('\n'), stderr: running.stderr.join('\n') };
}

/**
 * Runs a few lines of ESM TypeScript (tsx) as a process of its own, for what must not share the
 * test's process: a global SDK, or timers counted per process. Import project files by URL.
 */
export function startModule(code: string, options: Omit<ProcessOptions, 'args'> = {}): RunningProcess {
  return startProcess({ ...options, args: ['--import', 'tsx', '--input-type=module', '-e', code] });
}
