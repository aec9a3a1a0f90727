import { freePort } from './ports.js';
import { startProcess, type RunningProcess } from './processes.js';

/** A compiled API or worker process (`npm run build` first) that says when it is ready; its output is kept for diagnosis. */
export class ServiceProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly kind: 'api' | 'worker',
    private readonly running: RunningProcess,
    readonly port: number,
  ) {
    this.exited = running.ended;
  }

  /** Spawns the process; resolves once it logged it is ready (or rejects with its output). */
  static async start(kind: 'api' | 'worker', env: Record<string, string>): Promise<ServiceProcess> {
    const process_ = ServiceProcess.spawn(kind, env, await freePort());
    await process_.ready();
    return process_;
  }

  static spawn(kind: 'api' | 'worker', env: Record<string, string>, port: number): ServiceProcess {
    const entry = kind === 'api' ? 'dist/src/api/server.js' : 'dist/src/workers/main.js';
    const portKey = kind === 'api' ? 'PORT' : 'WORKER_HTTP_PORT';
    return new ServiceProcess(
      kind,
      startProcess({ args: [entry], env: { ...env, [portKey]: String(port) }, maxLines: 2_000 }),
      port,
    );
  }

  get lines(): string[] {
    return this.running.lines;
  }

  get child() {
    return this.running.child;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.running.pid;
  }

  get alive(): boolean {
    return this.running.alive();
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    const marker = this.kind === 'api' ? 'API ready' : 'worker ready';
    await this.running.waitForLog(marker, timeoutMs).catch((error: Error) => {
      throw new Error(`${this.kind} was not ready: ${error.message}`);
    });
  }

  /** Whether a log line with `message` (JSON logs) has been written. */
  logged(message: string): boolean {
    return this.lines.some((line) => line.includes(`"message":"${message}"`));
  }

  output(): string {
    return this.lines.slice(-40).join('\n');
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    await this.running.stop(signal);
  }
}
