import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';

const run = promisify(execFile);

export const ISSUER = 'bench-issuer';
export const AUDIENCE = 'cqrs-service-template';

/** An RS256 key pair, as an identity provider would hold it; the services get the public PEM. */
export function signingKeys(): { publicKeyPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
  };
}

export function tokens(privateKey: KeyObject, tenant: string, roles: string[], subjects: string[]): string[] {
  return subjects.map((sub) =>
    jwt.sign({ sub, tenant, roles, name: `Customer ${sub}`, email: `${sub}@bench.test` }, privateKey, {
      algorithm: 'RS256',
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: '2h',
    }),
  );
}

/**
 * An OTLP/HTTP endpoint that accepts and drops traces, so the services export spans over HTTP
 * as they would to a collector in production (serialization and batching included).
 */
export async function startOtlpSink(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server: Server = createServer((request, response) => {
    request.on('data', () => undefined);
    request.on('end', () => {
      received++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The starting commit, checked out with `git worktree add` into a temporary folder and built
 * (npm ci + npm run build), so its pipeline runs side by side with today's in the same run.
 * Reused when it was already built; removed at the end unless `keep`.
 */
export async function buildBaseline(
  ref: string,
  progress: (line: string) => void,
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const { stdout } = await run('git', ['rev-parse', '--short', ref]);
  const sha = stdout.trim();
  const dir = join(tmpdir(), `cqrs-bench-baseline-${sha}`);
  if (!existsSync(join(dir, '.git'))) {
    progress(`baseline: git worktree add ${dir} ${sha}`);
    await run('git', ['worktree', 'add', '--detach', '--force', dir, sha]);
  }
  const env = { ...process.env, PATH: `${join(dir, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
  if (!existsSync(join(dir, 'node_modules/.bin/tsc'))) {
    progress('baseline: npm ci (about a minute)');
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
  }
  if (!existsSync(join(dir, 'dist/src/api/server.js'))) {
    progress('baseline: npm run build');
    await run('npm', ['run', 'build'], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
  }
  return {
    dir,
    remove: async () => {
      await run('git', ['worktree', 'remove', '--force', dir]);
    },
  };
}
