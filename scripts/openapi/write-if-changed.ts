import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Writes only when the content changes, so the watching dev server (npm run dev) is not restarted. */
export function writeIfChanged(path: string, content: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return;
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  writeFileSync(path, content);
}
