import { existsSync, readFileSync } from 'node:fs';
import type { Names } from './names.js';
import { namesOf } from './names.js';
import type { SourceEdits } from './source-edits.js';

/**
 * A command on an existing aggregate, named <verb>-<noun> (archive-product): the handler that loads
 * the aggregate with a row lock and authorizes it, its entry in the write side's table of contents,
 * its route (POST /v1/<noun>s/{id}/<verb>, 202 with the command id and Location, Idempotency-Key)
 * and an integration test that also calls the route. The rule (an entity method returning its event)
 * is yours.
 */
export function newCommand(n: Names, edits: SourceEdits): string[] {
  const noun = namesOf(n.kebab.split('-').at(-1)!);
  if (noun.kebab === n.kebab) throw new Error(`name a command <verb>-<noun>, like archive-product`);
  const folder = `src/commands/${noun.kebab}s`;
  const entity = `${folder}/${noun.kebab}.entity.ts`;
  const fixture = `create${noun.pascal}`;
  const controller = `src/api/controllers/${noun.kebab}s.controller.ts`;
  const shapes = 'src/api/controllers/http-shapes.ts';
  const verb = n.kebab.split('-').slice(0, -1).join('-');
  const needs = [
    [
      existsSync(entity) && readFileSync(entity, 'utf8').includes(`export class ${noun.pascal} `),
      `an aggregate ${noun.pascal} in ${entity}`,
    ],
    [
      readFileSync('src/policies/abilities.ts', 'utf8').includes(`'${noun.pascal}',`),
      `a subject '${noun.pascal}' in SUBJECT_TYPES (src/policies/abilities.ts)`,
    ],
    [
      existsSync(controller) && readFileSync(controller, 'utf8').includes(`export class ${noun.pascal}sController `),
      `a controller ${noun.pascal}sController in ${controller}`,
    ],
    [
      readFileSync(shapes, 'utf8').includes(`export interface ${noun.pascal}Accepted `),
      `a response body ${noun.pascal}Accepted in ${shapes}`,
    ],
    [
      readFileSync('test/support/fixtures.ts', 'utf8').includes(`function ${fixture}(`),
      `a test fixture ${fixture}(services, tenantId) in test/support/fixtures.ts`,
    ],
  ] as const;
  const missing = needs.filter(([found]) => !found).map(([, what]) => what);
  if (missing.length) throw new Error(`a command on ${noun.pascal} needs ${missing.join('; ')}`);
  const idField = `${noun.camel}Id`;

  edits.create(
    `${folder}/${n.kebab}.handler.ts`,
    `import { LockMode } from '@mikro-orm/core';
import { NotFoundError } from '../../platform/errors.js';
import { authorize } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { ${noun.pascal} } from './${noun.kebab}.entity.js';

export interface ${n.pascal} {
  ${idField}: string;
}

/** TODO: who ${n.kebab.split('-').slice(0, -1).join(' ')}s a ${noun.kebab}, and what it means. */
export class ${n.pascal}Handler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, command: ${n.pascal}, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      '${n.pascal}',
      principal,
      async ({ em, ability }) => {
        const ${noun.camel} = await em.findOne(
          ${noun.pascal},
          { id: command.${idField}, tenantId: principal.tenantId },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        if (!${noun.camel}) throw new NotFoundError('${noun.pascal}', command.${idField});
        authorize(ability, 'update', '${noun.pascal}', ${noun.camel});
        // The rule goes on the entity and returns the event it causes: record(${noun.camel}.${n.camel.replace(noun.pascal, '')}(now)).
        return { aggregateType: '${noun.pascal}', aggregateId: ${noun.camel}.id };
      },
      options,
    );
  }
}
`,
  );
  edits.addImport('src/commands/index.ts', `import { ${n.pascal}Handler } from './${noun.kebab}s/${n.kebab}.handler.js';`);
  edits.insertBeforeEnd('src/commands/index.ts', /^export interface Commands \{$/, /^\}$/, `  ${n.camel}: ${n.pascal}Handler;`);
  edits.insertBeforeEnd(
    'src/commands/index.ts',
    /^ {2}return observer\.wrapAll\('command', \{$/,
    /^ {2}\}\);$/,
    `    ${n.camel}: new ${n.pascal}Handler(runner),`,
  );

  // The route: it only translates (principal + path -> command -> handler -> 202).
  edits.insertBeforeEnd(
    controller,
    new RegExp(`^export class ${noun.pascal}sController extends Controller \\{$`),
    /^\}$/,
    `
  /**
   * TODO: what it means to ${verb.replace(/-/g, ' ')} a ${noun.kebab}, and who may (admin).
   * @summary ${verb[0]!.toUpperCase() + verb.slice(1).replace(/-/g, ' ')} a ${noun.kebab}
   */
  @Post('{${idField}}/${verb}')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(403, 'Not allowed')
  @Response<Problem>(404, 'No such ${noun.kebab} in the tenant')
  public async ${n.camel}(
    @Request() request: ExpressRequest,
    @Path() ${idField}: Uuid,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<${noun.pascal}Accepted> {
    const result = await this.services.commands.${n.camel}.handle(
      principalOf(request),
      { ${idField} },
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, '${idField}');
  }`,
  );

  const test = `test/integration/${n.kebab}.handler.test.ts`;
  edits.create(
    test,
    `import { expect } from 'chai';
import { NotFoundError } from '../../src/platform/errors.js';
import { ${fixture}, principal, rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('${n.pascal} (PostgreSQL)', function () {
  this.timeout(60_000);
  let service: TestService;
  before(async () => {
    service = await startTestService();
  });
  after(() => service.stop());

  const logged = (commandId: string) =>
    rows(service.services, 'select type, aggregate_id from command_log where id = ?', [commandId]);

  it('When an admin posts it over HTTP twice with one Idempotency-Key, then it is accepted once, with its Location', async () => {
    const ${idField} = await ${fixture}(service.services, 'acme');
    const token = tokenFor(service.config, { sub: 'alex', tenant: 'acme', roles: ['admin'] });
    const send = () =>
      http(\`\${service.url}/v1/${noun.kebab}s/\${${idField}}/${verb}\`, {
        method: 'POST',
        token,
        headers: { 'idempotency-key': \`${n.kebab}-\${${idField}}\` },
      });

    const first = await send();
    const again = await send();

    expect(first.status).to.equal(202);
    expect(first.body).to.deep.equal({ commandId: first.body.commandId, ${idField} });
    expect(first.headers.get('location')).to.equal(\`/v1/commands/\${first.body.commandId}\`);
    expect(again.status).to.equal(202);
    expect(again.body).to.deep.equal(first.body);
    expect(await logged(first.body.commandId)).to.deep.equal([{ type: '${n.pascal}', aggregate_id: ${idField} }]);
    expect(await rows(service.services, 'select id from command_log where type = ? and aggregate_id = ?', ['${n.pascal}', ${idField}])).to.have.length(1);
  });

  it('When a customer posts it over HTTP, then it is a problem+json 4xx and nothing is recorded', async () => {
    const ${idField} = await ${fixture}(service.services, 'acme');
    const token = tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
    const before = await rows(service.services, 'select id from command_log');

    const answer = await http(\`\${service.url}/v1/${noun.kebab}s/\${${idField}}/${verb}\`, { method: 'POST', token });

    expect(answer.status).to.be.oneOf([403, 404]);
    expect(answer.headers.get('content-type')).to.match(/^application\\/problem\\+json/);
    expect(await rows(service.services, 'select id from command_log')).to.deep.equal(before);
  });

  it('When an admin of its tenant sends it, then the command is accepted and recorded with its aggregate', async () => {
    const ${idField} = await ${fixture}(service.services, 'acme');

    const accepted = await service.services.commands.${n.camel}.handle(principal('alex', 'acme', ['admin']), { ${idField} });

    expect(accepted.aggregateId).to.equal(${idField});
    expect(await logged(accepted.commandId)).to.deep.equal([{ type: '${n.pascal}', aggregate_id: ${idField} }]);
  });

  it('When the ${noun.kebab} belongs to another tenant, then it is not found and nothing is recorded', async () => {
    const ${idField} = await ${fixture}(service.services, 'acme');
    const before = await rows(service.services, 'select id from command_log');

    const error = await service.services.commands.${n.camel}
      .handle(principal('gina', 'globex', ['admin']), { ${idField} })
      .catch((cause: unknown) => cause);

    expect(error).to.be.instanceOf(NotFoundError);
    expect(await rows(service.services, 'select id from command_log')).to.deep.equal(before);
  });
});
`,
  );
  return [test];
}
