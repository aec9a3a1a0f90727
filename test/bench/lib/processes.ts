import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess } from '../../support/processes.js';

/** A process of the benchmark: how long it took to become ready, and its memory while it ran. */
export interface BenchProcess {
  name: string;
  pid: number;
  /** Spawn until its readiness endpoint first answered 200. */
  coldStartMs: number;
  /** Highest resident set size sampled so far (MB). */
  peakRssMb(): number;
  /** CPU time (user + system, every thread) it has used since it started, in ms; frozen once it is gone. */
  cpuMs(): number;
  /** Its main thread's (the event loop's) context switches so far: waits it woke from, and preemptions. */
  contextSwitches(): ContextSwitches;
  /** Stops it with SIGTERM (as Kubernetes does) and returns its peak RSS (kernel high-water mark). */
  stop(): Promise<{ peakRssMb: number; exitCode: number | null }>;
  /** True once the process exited on its own (a crash during a run invalidates the run). */
  exited(): boolean;
}

export interface SpawnOptions {
  name: string;
  cwd: string;
  args: string[];
  env: Record<string, string>;
  readyUrl: string;
  logFile: string;
  timeoutMs?: number;
  /** Takes a heap snapshot (SIGUSR2, see --heapsnapshot-signal) into this folder before stopping. */
  snapshotDir?: string | undefined;
}

/** The numeric fields of /proc/<pid>/status (the main thread's, for a pid), by name; undefined once it is gone. */
function procStatus(pid: number): ((field: string) => number) | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  return (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
}

/** Reads a field such as VmRSS or VmHWM (kB) of /proc/<pid>/status, in MB; 0 once it is gone. */
function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = procStatus(pid)?.(field) ?? Number.NaN;
  return Number.isNaN(kb) ? 0 : Math.round(kb / 1024);
}

export interface ContextSwitches {
  voluntary: number;
  involuntary: number;
}

/** A thread's context switches from /proc (the main thread's when given a pid). */
export function procContextSwitches(pid: number): ContextSwitches | undefined {
  const field = procStatus(pid);
  return field && { voluntary: field('voluntary_ctxt_switches'), involuntary: field('nonvoluntary_ctxt_switches') };
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks) in ms; undefined once it is gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Starts a process (stdout and stderr to its log file, as a container runtime would collect
 * them) and waits until `readyUrl` answers 200. Memory is sampled every 250 ms; the kernel's
 * high-water mark (VmHWM) is read just before it is stopped.
 */
export async function spawnProcess(options: SpawnOptions): Promise<BenchProcess> {
  const started = performance.now();
  const { child, pid, ended } = startProcess({
    args: options.args,
    cwd: options.cwd,
    env: options.env,
    cleanEnv: true,
    logFile: options.logFile,
  });
  let exitCode: number | null = null;
  let gone = false;
  const exit = ended.then(({ code }) => {
    exitCode = code;
    gone = true;
  });
  let peak = 0;
  const sample = () => (peak = Math.max(peak, procStatusMb(pid, 'VmRSS')));
  const sampler = setInterval(sample, 250);

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // A start that fails stops its sampler too: a live interval would keep the harness from ever exiting.
  const failed = (message: string) => {
    clearInterval(sampler);
    child.kill('SIGKILL');
    return new Error(`${options.name} ${message}; see ${options.logFile}`);
  };
  for (;;) {
    if (gone) throw failed(`exited with ${exitCode} before it was ready`);
    if (Date.now() > deadline) throw failed(`was not ready within ${options.timeoutMs ?? 60_000} ms`);
    const ready = await fetch(options.readyUrl).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const coldStartMs = Math.round(performance.now() - started);
  let lastCpuMs = 0;
  const cpuMs = () => (lastCpuMs = gone ? lastCpuMs : (procCpuMs(pid) ?? lastCpuMs));
  let lastSwitches: ContextSwitches = { voluntary: 0, involuntary: 0 };
  const contextSwitches = () => (lastSwitches = gone ? lastSwitches : (procContextSwitches(pid) ?? lastSwitches));

  return {
    name: options.name,
    pid,
    coldStartMs,
    peakRssMb: () => Math.max(peak, sample()),
    cpuMs,
    contextSwitches,
    exited: () => gone,
    async stop() {
      clearInterval(sampler);
      cpuMs();
      contextSwitches();
      const highWater = Math.max(peak, procStatusMb(pid, 'VmHWM'));
      if (!gone && options.snapshotDir) await heapSnapshot(child, options.snapshotDir);
      if (!gone) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exit;
        clearTimeout(killer);
      }
      return { peakRssMb: highWater, exitCode };
    },
  };
}

/** Signals the process to write a heap snapshot and waits until the file stops growing. */
async function heapSnapshot(child: ChildProcess, dir: string): Promise<void> {
  const mine = () => readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot') && name.includes(`.${child.pid}.`));
  const before = mine().length;
  child.kill('SIGUSR2');
  const deadline = Date.now() + 120_000;
  let size = -1;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const files = mine();
    if (files.length <= before) continue;
    const current = statSync(join(dir, files.at(-1)!)).size;
    if (current > 0 && current === size) return;
    size = current;
  }
}

/** One process's CPU time over a load window and per unit of work done in it (request, order, job). */
export interface CpuPerUnit {
  name: string;
  cpuMs: number;
  perUnitMs: number;
  /** Times its event loop went to sleep and was woken, per unit: more wake-ups for the same work cost CPU. */
  wakeupsPerUnit: number;
  /** Times the kernel took the core from its event loop, per unit: a sign of more runnable threads than cores. */
  preemptionsPerUnit: number;
}

/**
 * Opens a CPU window over these processes: `end(units)` returns each one's CPU time (utime +
 * stime) since the window opened, divided by the units of work done in it. Unlike req/s, this
 * does not move with what else the machine runs (only with cache and frequency effects).
 */
export function cpuWindow(procs: BenchProcess[]): { end(units: number): CpuPerUnit[] } {
  const before = procs.map((proc) => ({ cpuMs: proc.cpuMs(), switches: proc.contextSwitches() }));
  const perUnit = (value: number, units: number) => (units ? Math.round((value / units) * 100) / 100 : Number.NaN);
  return {
    end: (units) =>
      procs.map((proc, i) => {
        const used = proc.cpuMs() - before[i]!.cpuMs;
        const switches = proc.contextSwitches();
        return {
          name: proc.name,
          cpuMs: Math.round(used),
          perUnitMs: perUnit(used, units),
          wakeupsPerUnit: perUnit(switches.voluntary - before[i]!.switches.voluntary, units),
          preemptionsPerUnit: perUnit(switches.involuntary - before[i]!.switches.involuntary, units),
        };
      }),
  };
}
