/**
 * Operator commands (`npm run ops -- <command>`; in a container `node dist/src/ops/cli.js <command>`):
 *   queues                   jobs per state, backlog and dead letters of every queue
 *   redrive <queue>          send a queue's dead letters back for new attempts
 *   rebuild <projection>     rebuild a read model from the event log, with a progress bar
 *   reseal-secrets           re-seal stored secrets with the first key of SECRET_ENCRYPTION_KEYS (key rotation)
 * Exits non-zero on failure.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { resealSecrets } from '../commands/shared/reseal-secrets.js';
import { compose, type Services } from '../composition-root.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { awaitDependenciesOrExit } from '../platform/startup.js';
import { isQueueName, QUEUE_NAMES } from '../workers/queues.js';

const { positionals } = parseArgs({ allowPositionals: true });
const [command, target] = positionals;
const out = (line: string) => process.stdout.write(`${line}\n`);

const config = loadConfigOrExit();
const logger = createLogger({ level: 'warn', format: config.logFormat, service: 'ops' });
await awaitDependenciesOrExit(config, { wait: false, postgres: true, redis: { required: true, checkPolicy: false } }, logger);
const services = await compose(config, { processName: 'ops', logger, queues: 'on-first-use' });
try {
  await run(services);
} catch (error) {
  process.stderr.write(`ops ${command ?? ''} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await services.close();
}

async function run(services: Services): Promise<void> {
  switch (command) {
    case 'queues': {
      const rows = await services.queueOperations.overview();
      out('queue          waiting  active  delayed  failed  backlog  oldest-waiting-s  dead-letters');
      for (const row of rows) {
        const { waiting, active, delayed, failed } = row.counts;
        out(
          [row.name.padEnd(14), waiting, active, delayed, failed, row.backlog, row.oldestWaitingAgeSeconds, row.deadLetters]
            .map((cell, i) => (i === 0 ? cell : String(cell).padStart(i === 6 ? 16 : i === 7 ? 13 : 7)))
            .join(' '),
        );
      }
      return;
    }
    case 'redrive': {
      if (!target || !isQueueName(target)) throw new Error(`name a queue: ${QUEUE_NAMES.join(', ')}`);
      const { redriven } = await services.queueOperations.redrive(target);
      out(`redrove ${redriven} dead letter(s) of ${target}`);
      return;
    }
    case 'rebuild': {
      const projection = services.rebuilds.projectionNamed(target ?? '');
      const bar = new cliProgress.SingleBar(
        { format: `${projection.name} [{bar}] {value}/{total} events` },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const result = await services.rebuilds.run(projection.name, (progress) => {
        if (!started) bar.start(progress.total, 0);
        started = true;
        bar.update(progress.applied);
      });
      bar.stop();
      out(`rebuilt ${projection.name} from ${result.applied} event(s)`);
      return;
    }
    case 'reseal-secrets': {
      const report = await resealSecrets(services.orm, services.secrets);
      const { webhookSecrets, idempotentReplies } = report;
      out(
        `re-sealed ${webhookSecrets.resealed} webhook secret(s) and ${idempotentReplies.resealed} idempotent reply(ies) with key ${report.keyId}`,
      );
      const unopenable = [...webhookSecrets.unopenable, ...idempotentReplies.unopenable];
      if (unopenable.length) {
        throw new Error(
          `${unopenable.length} stored value(s) open with no configured key (sealed with a key no longer configured, or never sealed; left unchanged): ${unopenable.slice(0, 20).join('; ')}`,
        );
      }
      return;
    }
    default:
      throw new Error('usage: npm run ops -- queues | redrive <queue> | rebuild <projection> | reseal-secrets');
  }
}
