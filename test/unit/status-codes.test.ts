import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';

/** Every TypeScript source file under src/ (generated routes excluded: tsoa writes them). */
function sources(dir = 'src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join('src', 'api', 'generated') ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Where a status for an error may be written: the error handler, and the worker's health server (no Express there). */
const STATUS_OWNERS = new Set([join('src', 'api', 'error-handler.ts'), join('src', 'platform', 'health-server.ts')]);

describe('Status codes are chosen by the one error handler', () => {
  it('When the sources are read, then no file outside the error handler sets a 4xx or 5xx status itself', () => {
    const offenders = sources()
      .filter((file) => !STATUS_OWNERS.has(file))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, index) => ({ where: `${file}:${index + 1}`, line }))
          .filter(({ line }) =>
            /\b(status|sendStatus|writeHead|setStatus)\(.*\b[45]\d\d\b|statusCode\s*=.*\b[45]\d\d\b/.test(line),
          ),
      );

    expect(offenders.map(({ where, line }) => `${where}: ${line.trim()}`)).to.deep.equal([]);
  });

  it('When the sources are read, then every refusal is a named error class, never an inline AppError', () => {
    const inline = sources().filter((file) => /new AppError\(/.test(readFileSync(file, 'utf8')));

    expect(inline).to.deep.equal([]);
  });
});
