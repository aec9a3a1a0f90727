/**
 * `npm run new -- command|read-model|process <name>`: scaffolds a working, tested part in the
 * project's shape and registers it in the one place each kind is declared. docs/adding-a-feature.md
 * says what each kind generates; `npm run new:check` (CI) proves it still compiles and passes.
 */
import { execFileSync } from 'node:child_process';
import { newCommand } from './command.js';
import { namesOf, type Names } from './names.js';
import { newProcess } from './process.js';
import { newReadModel } from './read-model.js';
import { SourceEdits } from './source-edits.js';

const KINDS: Record<string, (names: Names, edits: SourceEdits) => string[]> = {
  command: newCommand,
  'read-model': newReadModel,
  process: newProcess,
};

const [kind = '', name = ''] = process.argv.slice(2);
const generate = KINDS[kind];
if (!generate || !name) {
  console.error(`usage: npm run new -- ${Object.keys(KINDS).join('|')} <kebab-case-name>`);
  process.exit(2);
}

const edits = new SourceEdits();
try {
  const tests = generate(namesOf(name), edits);
  execFileSync('node_modules/.bin/prettier', ['--log-level=warn', '--write', ...edits.touched], { stdio: 'inherit' });
  console.log(`${kind} ${name}: wrote or changed\n  ${[...edits.touched].join('\n  ')}`);
  console.log(`Run its tests: npx mocha ${tests.join(' ')} (npm run test:local runs them all)`);
  if (kind === 'process')
    console.log(`Left for you: deploy worker role ${name} (k8s/ and docker-compose.yml); the deployment tests fail until then.`);
} catch (error) {
  console.error(`npm run new: ${error instanceof Error ? error.message : String(error)}`);
  if (edits.touched.size) console.error(`Files already changed (git checkout / rm them):\n  ${[...edits.touched].join('\n  ')}`);
  process.exit(1);
}
