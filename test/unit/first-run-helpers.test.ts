import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { MINIMUM_NODE, nodeVersion } from '../../src/ops/doctor-checks.js';
import { ConnectionWarnings } from '../../src/platform/connection-warnings.js';
import { DependencyError, redactUrl, unreachableMessage } from '../../src/platform/dependencies.js';

/** A real winston logger whose JSON lines land in an array. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

describe('First-run helpers', () => {
  it('When the same dependency fails over and over, then one warning per interval, and the next one says how often it was repeated', async () => {
    const { logger, lines } = recordingLogger();
    let now = 0;
    const warnings = new ConnectionWarnings(logger, 30_000, () => now);

    for (let i = 0; i < 20; i += 1) warnings.warn('Redis', 'Redis is not reachable');
    warnings.warn('PostgreSQL', 'PostgreSQL is not reachable');
    now = 30_000;
    warnings.warn('Redis', 'Redis is not reachable');
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines.map((line) => line.message)).to.deep.equal([
      'Redis is not reachable',
      'PostgreSQL is not reachable',
      'Redis is not reachable',
    ]);
    expect(lines[2]).to.include({ repeatedSinceLastLine: 19, level: 'warn' });
  });

  it('When a connection is refused, then the message names the URL (password masked) and both ways out', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const error = new DependencyError('PostgreSQL', 'postgres://app:s3cret@db.local:5433/cqrs', refused);

    expect(error.unreachable).to.equal(true);
    expect(error.message)
      .to.include('PostgreSQL is not reachable at postgres://app:***@db.local:5433/cqrs (connection refused)')
      .and.include('start your local PostgreSQL')
      .and.include('`docker compose up -d postgres redis`')
      .and.not.include('s3cret');
    expect(unreachableMessage('Redis', 'redis://127.0.0.1:6390')).to.include('start your local Redis');
    expect(redactUrl('redis://:pw@127.0.0.1:6379')).to.equal('redis://:***@127.0.0.1:6379');
  });

  it('When a server answers but refuses us (a wrong password), then that is not called unreachable and is not waited for', () => {
    const denied = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    const error = new DependencyError('PostgreSQL', 'postgres://app@127.0.0.1:5432/cqrs', denied);

    expect(error.unreachable).to.equal(false);
    expect(error.message).to.include('refused us: password authentication failed');
  });

  it('When the doctor checks Node, then its minimum is the one package.json declares, and older versions fail with a fix', () => {
    const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
    expect(`>=${MINIMUM_NODE.replace(/\.0$/, '')}`).to.equal(engines);
    expect(nodeVersion('24.21.0').status).to.equal('ok');
    expect(nodeVersion('20.20.2')).to.include({ status: 'fail' }).and.have.property('fix').that.includes('Node 24');
  });
});
