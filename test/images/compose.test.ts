import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const exec = promisify(execFile);

/**
 * docker-compose.yml read by a real Compose implementation, on top of the JSON-schema check in
 * test/deploy/compose.test.ts: Debian's `docker-compose` (here), or the `docker compose` plugin
 * (GitHub's runners). `config` needs no engine.
 */
const COMPOSE_COMMANDS = [['docker-compose'], ['docker', 'compose']];

async function composeConfig(file: string): Promise<{ ok: boolean; output: string }> {
  for (const [command, ...prefix] of COMPOSE_COMMANDS) {
    try {
      const { stdout, stderr } = await exec(command!, [...prefix, '-f', file, '--project-directory', '.', 'config', '-q']);
      return { ok: true, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: string | number; stderr?: string; message: string };
      const missing =
        failed.code === 'ENOENT' || /unknown (command|shorthand flag)|is not a docker command/.test(failed.stderr ?? '');
      if (!missing) return { ok: false, output: failed.stderr ?? failed.message };
    }
  }
  throw new Error(
    'No Compose implementation found: install docker-compose (apt-get install docker-compose) or the docker compose plugin',
  );
}

describe('docker-compose.yml, read by Compose', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'compose-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('When `docker-compose config -q` reads the file, then it accepts it without a word', async () => {
    const result = await composeConfig('docker-compose.yml');

    expect(result).to.deep.equal({ ok: true, output: '' });
  });

  it('When a service waits on a condition Compose does not know, then Compose refuses the file', async () => {
    const broken = path.join(scratch, 'docker-compose.yml');
    const text = await readFile('docker-compose.yml', 'utf8');
    await writeFile(broken, text.replace('condition: service_completed_successfully', 'condition: service_finished'));

    const result = await composeConfig(broken);

    expect(result.ok).to.equal(false);
    expect(result.output).to.match(/depends_on\.migrate\.condition contains "service_finished"/);
  });
});
