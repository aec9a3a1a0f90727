import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The benchmark harness (test/bench): a service process that fails to start must fail the run,
 * not hang it. The harness is a process of its own here, so what is checked is that it exits.
 */
describe('Bench processes (test/bench/lib/processes.ts)', () => {
  it('When a process exits before it is ready, then the start fails and the harness process can still exit', async () => {
    // Arrange
    const processes = pathToFileURL(resolve('test/bench/lib/processes.ts')).href;
    const harness = `
      import { spawnProcess } from ${JSON.stringify(processes)};
      await spawnProcess({
        name: 'dies at once', cwd: process.cwd(), env: {},
        args: ['-e', 'process.exit(3)'],
        readyUrl: 'http://127.0.0.1:9/health/ready',
        logFile: '/dev/null',
        timeoutMs: 60000,
      }).catch((error) => console.log(error.message));`;

    // Act
    const outcome = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', harness],
        { timeout: 15_000, killSignal: 'SIGKILL' },
        (_error, stdout) => done({ code: child.exitCode, stdout }),
      );
    });

    // Assert
    expect(outcome.stdout).to.contain('dies at once exited with 3 before it was ready');
    expect(outcome.code, 'the harness exited on its own').to.equal(0);
  });
});
