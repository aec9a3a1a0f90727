import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The generator's only ways to touch the repository: create a file that does not exist yet, or
 * insert lines at an anchor that must be found exactly once. A missing anchor stops it with the
 * file and the anchor named: the source moved away from the generator, and `npm run new:check`
 * fails in CI until they agree again.
 */
export class SourceEdits {
  readonly touched = new Set<string>();

  create(path: string, text: string): void {
    if (existsSync(path)) throw new Error(`${path} exists already`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    this.touched.add(path);
  }

  /** Adds an import above the file's first one (prettier and eslint keep imports as they find them). */
  addImport(path: string, line: string): void {
    const lines = readFileSync(path, 'utf8').split('\n');
    const first = lines.findIndex((candidate) => candidate.startsWith('import '));
    if (first < 0) throw new Error(`${path}: no import to add one beside`);
    lines.splice(first, 0, line);
    writeFileSync(path, lines.join('\n'));
    this.touched.add(path);
  }

  /** Inserts `text` right after the one line that matches `anchor`. */
  insertAfter(path: string, anchor: RegExp, text: string): void {
    this.edit(path, anchor, (lines, at) => lines.splice(at + 1, 0, ...text.split('\n')));
  }

  /** Inserts `text` before the first line matching `end` that follows the one line matching `anchor`. */
  insertBeforeEnd(path: string, anchor: RegExp, end: RegExp, text: string): void {
    this.edit(path, anchor, (lines, at) => {
      const close = lines.findIndex((line, index) => index > at && end.test(line));
      if (close < 0) throw new Error(`${path}: nothing matches ${String(end)} after ${String(anchor)}`);
      lines.splice(close, 0, ...text.split('\n'));
    });
  }

  private edit(path: string, anchor: RegExp, change: (lines: string[], at: number) => void): void {
    const lines = readFileSync(path, 'utf8').split('\n');
    const found = lines.flatMap((line, index) => (anchor.test(line) ? [index] : []));
    if (found.length !== 1) throw new Error(`${path}: expected one line matching ${String(anchor)}, found ${found.length}`);
    change(lines, found[0]!);
    writeFileSync(path, lines.join('\n'));
    this.touched.add(path);
  }
}
