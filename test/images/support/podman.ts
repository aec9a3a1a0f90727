import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a podman command and returns its stdout (scripts/images/podman-env.sh set CONTAINERS_CONF). */
export async function podman(...args: string[]): Promise<string> {
  const { stdout } = await exec('podman', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * Every shell of the Debian-based images, masked (bound to an unreadable /dev/null): a
 * container that needed a shell to start, or spawned one, fails. Kubernetes runs the args
 * through tini and node only.
 */
export const SHELLS = ['/usr/bin/sh', '/usr/bin/dash', '/usr/bin/bash'];

/** How one container runs: what a Kubernetes pod template says, translated to `podman run`. */
export interface ContainerRun {
  name: string;
  image: string;
  /** After the image's ENTRYPOINT (tini), as Kubernetes `args` do. */
  args: string[];
  env: Record<string, string>;
  /** `uid:gid` from the pod's securityContext. */
  user: string;
  readOnlyRootFilesystem: boolean;
  /** Size of the emptyDir mounted at /tmp (`sizeLimit`), e.g. 64Mi. */
  tmpSize: string;
  maskShells: boolean;
}

export function runArguments(run: ContainerRun): string[] {
  return [
    'run',
    '--name',
    run.name,
    // The host's PostgreSQL and Redis on 127.0.0.1, with no bridge network to set up.
    '--network',
    'host',
    '--user',
    run.user,
    '--cap-drop',
    'all',
    '--security-opt',
    'no-new-privileges',
    ...(run.maskShells ? ['--security-opt', `mask=${SHELLS.join(':')}`] : []),
    // podman's --read-only would otherwise add writable /run and /var/tmp, which the pods lack.
    ...(run.readOnlyRootFilesystem ? ['--read-only', '--read-only-tmpfs=false'] : []),
    '--tmpfs',
    `/tmp:rw,mode=1777,size=${run.tmpSize.replace(/i$/, '').toLowerCase()}`,
    ...Object.entries(run.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    run.image,
    ...run.args,
  ];
}

/** A container started in the foreground: its output lines, its exit, and signals through podman. */
export class RunningContainer {
  readonly exited: Promise<number | null>;
  private readonly lines: string[] = [];
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  private readonly process: ChildProcess;

  constructor(readonly run: ContainerRun) {
    this.process = spawn('podman', runArguments(run), { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        for (const waiter of this.waiters.filter((w) => w.match(line))) waiter.resolve(line);
      });
    }
    this.exited = once(this.process, 'exit').then(([code]) => code as number | null);
  }

  /** Resolves with the first output line containing `text` (JSON logs or the dev stage's pretty ones). */
  printed(text: string): Promise<string> {
    const seen = this.lines.find((line) => line.includes(text));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match: (line) => line.includes(text), resolve }));
  }

  output(): string {
    return this.lines.join('\n');
  }

  /** Sends a signal to the container's PID 1 (tini), as the kubelet does. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    await podman('kill', '--signal', signal, this.run.name);
  }

  async remove(): Promise<void> {
    await podman('rm', '--force', '--time', '0', this.run.name).catch(() => undefined);
  }
}

/** Bytes of an image in local storage. */
export async function imageSize(image: string): Promise<number> {
  return Number(await podman('image', 'inspect', '--format', '{{.Size}}', image));
}
