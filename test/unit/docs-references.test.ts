import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';

const TOP_LEVEL = ['src', 'test', 'scripts', 'ops', 'k8s', 'migrations', 'docs', 'clients'];

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'generated' ? [] : filesUnder(path, suffix);
    return path.endsWith(suffix) ? [path] : [];
  });
}

const docs = () => [...filesUnder('docs', '.md'), 'README.md'];

/** `src/a/b.ts`, `test/x/`, `docs/y.md#anchor`: paths in backticks, placeholders (`<name>`, globs) left out. */
function repoPathsIn(markdown: string): string[] {
  const pattern = new RegExp(`\`((?:${TOP_LEVEL.join('|')})/[^\`\\s]*)\``, 'g');
  return [...markdown.matchAll(pattern)].map((match) => match[1]!.split(/[#:]/)[0]!).filter((path) => !/[<>*{}]/.test(path));
}

/** Every identifier the code declares or uses, comments left out. */
function codeIdentifiers(): Set<string> {
  const code = ['src', 'scripts', 'test', 'migrations']
    .flatMap((dir) => filesUnder(dir, '.ts'))
    .map((file) =>
      readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:'"`])\/\/.*$/gm, '$1'),
    )
    .join('\n');
  return new Set(code.match(/[A-Za-z_$][\w$]*/g));
}

/** `name(` or `object.name(` in backticks: a function the text says exists. */
const calledIn = (text: string): string[] => [...text.matchAll(/`(?:[\w$]+\.)*([A-Za-z_$][\w$]*)\(/g)].map((match) => match[1]!);

/** `camelCase` in backticks: in a source comment, a name of the code. */
const camelCaseIn = (text: string): string[] =>
  [...text.matchAll(/`(?:[\w$]+\.)*([a-z_$][\w$]*[A-Z][\w$]*)`/g)].map((match) => match[1]!);

const commentsOf = (file: string): string =>
  [...readFileSync(file, 'utf8').matchAll(/\/\*[\s\S]*?\*\/|\/\/.*$/gm)].map((match) => match[0]).join('\n');

describe('Docs and comments name what exists', () => {
  it('When the docs name a file or folder of the repository in backticks, then it exists', () => {
    const missing = docs().flatMap((doc) =>
      repoPathsIn(readFileSync(doc, 'utf8'))
        .filter((path) => !existsSync(path))
        .map((path) => `${doc}: ${path}`),
    );

    expect(missing).to.deep.equal([]);
  });

  it('When a source comment points to a doc, then the doc exists', () => {
    const missing = filesUnder('src', '.ts').flatMap((file) =>
      [...commentsOf(file).matchAll(/\bdocs\/[\w./-]+\.md\b/g)]
        .map((match) => match[0])
        .filter((path) => !existsSync(path))
        .map((path) => `${file}: ${path}`),
    );

    expect(missing).to.deep.equal([]);
  });

  it('When the docs or a source comment name a function (or a source comment a camelCase name), then the code has it', () => {
    const identifiers = codeIdentifiers();
    const texts = [
      ...docs().map((doc) => ({ where: doc, text: readFileSync(doc, 'utf8') })),
      ...filesUnder('src', '.ts').map((file) => ({ where: file, text: commentsOf(file) })),
    ];

    const unknown = texts.flatMap(({ where, text }) =>
      [...calledIn(text), ...(where.startsWith('src') ? camelCaseIn(text) : [])]
        .filter((name) => !identifiers.has(name))
        .map((name) => `${where}: ${name}`),
    );

    expect(unknown).to.deep.equal([]);
  });
});
