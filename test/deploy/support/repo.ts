import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function repoPath(...segments: string[]): string {
  return path.join(repoRoot, ...segments);
}

export function readRepoFile(relativePath: string): string {
  return readFileSync(repoPath(relativePath), 'utf8');
}

export function repoFileExists(relativePath: string): boolean {
  return existsSync(repoPath(relativePath));
}

/** A YAML file as plain data (merge keys `<<` resolved, as docker compose does). */
export function readYaml(relativePath: string): unknown {
  return YAML.parse(readRepoFile(relativePath), { merge: true });
}

export function readYamlDocuments(relativePath: string): unknown[] {
  return YAML.parseAllDocuments(readRepoFile(relativePath), { merge: true }).map((doc) => doc.toJS());
}

let checkoutFiles: Set<string> | undefined;

/**
 * The files a clean checkout of the working tree would contain: tracked files plus new files
 * that are not ignored. Build output, node_modules and generated code (all gitignored) are not
 * in it, which is the point: an image build must not depend on them.
 */
export function cleanCheckoutFiles(): Set<string> {
  checkoutFiles ??= new Set(
    execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
      .split('\0')
      .filter((file) => file !== '' && existsSync(repoPath(file))),
  );
  return checkoutFiles;
}

export function packageScripts(): Record<string, string> {
  const pkg = JSON.parse(readRepoFile('package.json')) as { scripts?: Record<string, string> };
  return pkg.scripts ?? {};
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
