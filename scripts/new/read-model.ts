import type { Names } from './names.js';
import type { SourceEdits } from './source-edits.js';

/**
 * A read model: its table (a migration), a counting projection, a query, the one declaration in
 * READ_MODELS, a subject only admins may read, its route (GET /v1/reports/<name>) and an
 * integration test of live delivery, redelivery, authorization, the route (read-your-writes passed through) and rebuild.
 */
export function newReadModel(n: Names, edits: SourceEdits, now = new Date()): string[] {
  const migration = `Migration${now.toISOString().replace(/\D/g, '').slice(0, 14)}_${n.snake}`;
  const folder = `src/queries/${n.kebab}`;

  edits.create(
    `migrations/${migration}.ts`,
    `import { Migration } from '@mikro-orm/migrations';

/** The ${n.snake} read model (src/queries/${n.kebab}): events per tenant and type. */
export class ${migration} extends Migration {
  override name = '${migration}';

  override up(): void {
    this.addSql(\`
      create table ${n.snake} (
        tenant_id text not null,
        event_type text not null,
        events_count bigint not null default 0,
        primary key (tenant_id, event_type)
      )\`);
  }

  override down(): void {
    this.addSql('drop table ${n.snake}');
  }
}
`,
  );
  edits.insertBeforeEnd('migrations/index.ts', /^export const migrations = \[$/, /^\];$/, `  ${migration},`);
  edits.addImport('migrations/index.ts', `import { ${migration} } from './${migration}.js';`);

  edits.create(
    `${folder}/${n.kebab}.projection.ts`,
    `import type { EntityManager } from '@mikro-orm/postgresql';
import { DOMAIN_EVENT_TYPES, type DomainEvent } from '../../events/index.js';
import type { Projection } from '../shared/projection.js';

/**
 * ${n.snake}: how many events of each type a tenant has seen. Counting, so guarded by the inbox
 * (the projector records each event once per projection); the increments commute, so any arrival
 * order gives the same rows. Follow only the events your tables need.
 */
export const ${n.camel}Projection: Projection = {
  name: '${n.snake}',
  eventTypes: DOMAIN_EVENT_TYPES,
  tables: ['${n.snake}'],

  // The one row each event adds to, shared with the tenant's other events of its type: two
  // transactions adding to it wait for each other instead of deadlocking. A projection that
  // named no keys would take its whole tenant and hold up every other projection of it.
  lockKeys: (event: DomainEvent) => [\`${n.snake}:\${event.type}\`],

  async apply(em: EntityManager, event: DomainEvent): Promise<void> {
    await em.execute(
      \`insert into ${n.snake} (tenant_id, event_type, events_count) values (?, ?, 1)
       on conflict (tenant_id, event_type) do update set events_count = ${n.snake}.events_count + 1\`,
      [event.tenantId, event.type],
    );
  },
};
`,
  );
  edits.create(
    `${folder}/${n.kebab}.dto.ts`,
    `export interface ${n.pascal}Dto {
  eventType: string;
  count: number;
}

/** The caller's tenant's ${n.snake}, ordered by event type. */
export interface ${n.pascal}ListDto {
  items: ${n.pascal}Dto[];
}
`,
  );
  edits.create(
    `${folder}/get-${n.kebab}.query.ts`,
    `import { ForbiddenError } from '../../platform/errors.js';
import { allows } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import type { Projection } from '../shared/projection.js';
import type { ReadOptions, Reader } from '../shared/read-context.js';
import type { ${n.pascal}Dto } from './${n.kebab}.dto.js';

interface ${n.pascal}Row {
  event_type: string;
  events_count: string;
}

/** The caller's tenant's ${n.snake} (admin). */
export class Get${n.pascal}Query {
  constructor(
    private readonly reader: Reader,
    private readonly projection: Projection,
  ) {}

  async handle(principal: Principal, options?: ReadOptions): Promise<{ items: ${n.pascal}Dto[]; freshness: Freshness | null }> {
    const read = await this.reader.open(principal, this.projection, options);
    if (!allows(read.ability, 'read', '${n.pascal}', { id: '${n.kebab}', tenantId: principal.tenantId }))
      throw new ForbiddenError('read', '${n.kebab}');
    const rows = await read.sql<${n.pascal}Row>(
      'select event_type, events_count from ${n.snake} where tenant_id = ? order by event_type',
      [principal.tenantId],
    );
    return { items: rows.map((row) => ({ eventType: row.event_type, count: Number(row.events_count) })), freshness: read.freshness };
  }
}
`,
  );

  // The one declaration, and the subject its query authorizes.
  edits.addImport('src/queries/read-models.ts', `import { ${n.camel}Projection } from './${n.kebab}/${n.kebab}.projection.js';`);
  edits.insertBeforeEnd(
    'src/queries/read-models.ts',
    /^export const READ_MODELS = \{$/,
    /^\} satisfies Record<string, ReadModel>;$/,
    `  ${n.camel}: { subject: '${n.pascal}', entities: [], projection: () => ${n.camel}Projection },`,
  );
  edits.insertBeforeEnd('src/policies/abilities.ts', /^export const SUBJECT_TYPES = \[$/, /^\] as const;$/, `  '${n.pascal}',`);
  edits.insertAfter(
    'src/policies/abilities.ts',
    /^ {2}if \(roles\.has\('admin'\)\) \{$/,
    `    can('read', '${n.pascal}', { tenantId });`,
  );

  // The query, in the read side's table of contents.
  edits.addImport('src/queries/index.ts', `import { Get${n.pascal}Query } from './${n.kebab}/get-${n.kebab}.query.js';`);
  edits.insertBeforeEnd(
    'src/queries/index.ts',
    /^export interface Queries \{$/,
    /^\}$/,
    `  get${n.pascal}: Get${n.pascal}Query;`,
  );
  edits.insertBeforeEnd(
    'src/queries/index.ts',
    /^ {4}queries: observer\.wrapAll\('query', \{$/,
    /^ {4}\}\),$/,
    `      get${n.pascal}: new Get${n.pascal}Query(reader, projections.${n.camel}),`,
  );

  // The route, beside the other admin reports: read-your-writes passed through; the error handler
  // answers problem+json, conditionalGet the ETag.
  const controller = 'src/api/controllers/reports.controller.ts';
  edits.addImport(controller, `import type { ${n.pascal}ListDto } from '../../queries/${n.kebab}/${n.kebab}.dto.js';`);
  edits.insertBeforeEnd(
    controller,
    /^export class ReportsController extends Controller \{$/,
    /^\}$/,
    `
  /**
   * TODO: what the tenant's ${n.snake} tell (admin).
   * @summary Read ${n.kebab.replace(/-/g, ' ')}
   */
  @Get('${n.kebab}')
  @Response<Problem>(403, 'Not an admin')
  public async get${n.pascal}(
    @Request() request: ExpressRequest,
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<${n.pascal}ListDto> {
    const { freshness, ...list } = await this.services.queries.get${n.pascal}.handle(principalOf(request), {
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, freshness);
    return list;
  }`,
  );

  // The contract test's list of GETs (every GET of the document must be in it): who may read it.
  edits.insertBeforeEnd(
    'test/e2e/contract.e2e.test.ts',
    /^ {2}const readers: Record<string, \(\) => \{ token: string; path: string \}> = \{$/,
    /^ {2}\};$/,
    `    '/v1/reports/${n.kebab}': () => ({ token: as('alex', ['admin']), path: '/v1/reports/${n.kebab}' }),`,
  );

  const test = `test/integration/${n.kebab}.read-model.test.ts`;
  edits.create(
    test,
    `import { expect } from 'chai';
import { ForbiddenError } from '../../src/platform/errors.js';
import { newId } from '../../src/platform/ids.js';
import { appendEvent } from '../support/event-log.js';
import { principal, rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('${n.snake} read model (PostgreSQL)', function () {
  this.timeout(60_000);
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService();
  });
  afterEach(() => service.stop());

  /** An event it follows, in the log. */
  const logged = (tenantId: string) => appendEvent(service.services, tenantId, service.services.projections.${n.camel}.eventTypes[0]!);

  const table = () => rows(service.services, 'select * from ${n.snake} order by tenant_id, event_type');

  it('When an event is delivered twice, then it counts once, for its tenant only', async () => {
    const { projector, projections, queries } = service.services;
    const event = await logged('acme');

    expect(await projector.applyOnce(projections.${n.camel}, event)).to.equal(true);
    expect(await projector.applyOnce(projections.${n.camel}, event)).to.equal(false);

    const acme = await queries.get${n.pascal}.handle(principal('alex', 'acme', ['admin']));
    const globex = await queries.get${n.pascal}.handle(principal('gina', 'globex', ['admin']));
    expect(acme.items).to.deep.equal([{ eventType: event.type, count: 1 }]);
    expect(globex.items).to.deep.equal([]);
  });

  it('When a customer asks, then it is forbidden', async () => {
    const error = await service.services.queries.get${n.pascal}.handle(principal('ada', 'acme', ['customer'])).catch((cause: unknown) => cause);
    expect(error).to.be.instanceOf(ForbiddenError);
  });

  it('When an admin GETs it over HTTP, then it answers the rows of their tenant with an ETag; a customer gets problem+json 403', async () => {
    const { projector, projections } = service.services;
    const event = await logged('acme');
    await projector.applyOnce(projections.${n.camel}, event);
    await projector.applyOnce(projections.${n.camel}, await logged('globex'));
    const url = \`\${service.url}/v1/reports/${n.kebab}\`;

    const token = tokenFor(service.config, { sub: 'alex', tenant: 'acme', roles: ['admin'] });
    const admin = await http(url, { token });
    const customer = await http(url, { token: tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] }) });

    expect(admin.status).to.equal(200);
    expect(admin.body).to.deep.equal({ items: [{ eventType: event.type, count: 1 }] });
    expect(admin.headers.get('etag')).to.be.a('string');
    expect(customer.status).to.equal(403);
    expect(customer.headers.get('content-type')).to.match(/^application\\/problem\\+json/);
  });

  it('When a read names a command (query or Consistent-With header), then the route waits for it and says how fresh it is', async () => {
    const url = \`\${service.url}/v1/reports/${n.kebab}\`;
    const token = tokenFor(service.config, { sub: 'alex', tenant: 'acme', roles: ['admin'] });

    const byQuery = await http(\`\${url}?consistentWith=\${newId()}\`, { token });
    const byHeader = await http(url, { token, headers: { 'consistent-with': newId() } });

    expect([byQuery.status, byHeader.status]).to.deep.equal([200, 200]);
    expect(byQuery.headers.get('consistency')).to.equal('unknown-command');
    expect(byHeader.headers.get('consistency')).to.equal('unknown-command');
  });

  it('When it is rebuilt from the event log, then its rows equal the ones built live', async () => {
    const { projector, projections, rebuilds } = service.services;
    for (const tenant of ['acme', 'acme', 'globex']) await projector.applyOnce(projections.${n.camel}, await logged(tenant));
    const live = await table();

    const rebuilt = await rebuilds.run('${n.snake}');

    expect(rebuilt.applied).to.equal(3);
    expect(await table()).to.deep.equal(live);
  });
});
`,
  );
  return [test, 'test/e2e/contract.e2e.test.ts'];
}
