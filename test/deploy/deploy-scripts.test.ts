import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoPath } from './support/repo.js';

/**
 * The skaffold hooks that order migrations before the application, run against a stand-in
 * kubectl that answers with the Job conditions each test sets up and records its calls.
 */
const STUB = `#!/bin/sh
echo "$*" >> "$STUB_LOG"
case "$*" in
  *" get job "*) printf '%s' "$STUB_CONDITIONS" ;;
  *" logs "*) echo "migration failed: relation already exists" ;;
esac
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

function runScript(script: string, args: string[], conditions: string, extraEnv: Record<string, string> = {}): Run {
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-scripts-'));
  try {
    writeFileSync(path.join(dir, 'kubectl'), STUB);
    chmodSync(path.join(dir, 'kubectl'), 0o755);
    const log = path.join(dir, 'calls.log');
    writeFileSync(log, '');
    const result = spawnSync('sh', [repoPath('scripts/deploy', script), ...args], {
      encoding: 'utf8',
      env: { PATH: `${dir}:/usr/bin:/bin`, STUB_LOG: log, STUB_CONDITIONS: conditions, ...extraEnv },
      timeout: 10_000,
    });
    return {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      calls: readFileSync(log, 'utf8').trim().split('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy hook scripts', () => {
  it('When the migration Job has completed, then wait-for-job exits 0', () => {
    // Act
    const run = runScript('wait-for-job.sh', ['cqrs', 'cqrs-migrate', '60'], 'SuccessCriteriaMet Complete ');

    // Assert
    expect(run.status).to.equal(0);
    expect(run.stdout).to.include('job/cqrs-migrate completed');
    expect(run.calls[0]).to.match(/^-n cqrs get job cqrs-migrate -o jsonpath=/);
  });

  it('When the migration Job has failed, then wait-for-job exits 1 at once and shows its logs', () => {
    // Act
    const run = runScript('wait-for-job.sh', ['cqrs', 'cqrs-migrate', '60'], 'FailureTarget Failed ');

    // Assert
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('job/cqrs-migrate failed');
    expect(run.stderr).to.include('relation already exists');
  });

  it('When the Job is still running at the deadline, then wait-for-job exits 1', () => {
    // Act
    const run = runScript('wait-for-job.sh', ['cqrs', 'cqrs-migrate', '0'], '');

    // Assert
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('did not complete within 0s');
  });

  it('When skaffold names a kube context, then the hooks use it', () => {
    // Act
    const run = runScript('delete-job.sh', ['cqrs', 'cqrs-migrate'], '', { SKAFFOLD_KUBE_CONTEXT: 'prod-cluster' });

    // Assert
    expect(run.status).to.equal(0);
    expect(run.calls).to.deep.equal([
      '--context=prod-cluster -n cqrs delete job cqrs-migrate --ignore-not-found --cascade=foreground --wait=true',
    ]);
  });
});
