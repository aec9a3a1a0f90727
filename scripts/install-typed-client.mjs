// postinstall: the typed client (clients/typescript) keeps its own lockfile, since its generator
// needs a TypeScript range the root does not use. The root's typecheck and the typed-client e2e
// story import it, so installing the root installs it too. Image builds copy no clients/ folder
// (and run npm with --ignore-scripts), so there is nothing to do there.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const client = new URL('../clients/typescript/', import.meta.url);
if (existsSync(new URL('package-lock.json', client))) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['ci', '--prefix', client.pathname, '--no-audit', '--no-fund', '--loglevel=error'];
  const result = spawnSync(npm, args, { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
