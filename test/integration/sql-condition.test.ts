import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { abilityFor, accessFilter, allows, defineAbilityFor, type AppAbility } from '../../src/policies/abilities.js';
import type { Role } from '../../src/policies/principal.js';
import { orderViewColumn } from '../../src/queries/order-view/order-view.mapper.js';
import { accessSql } from '../../src/queries/shared/read-context.js';
import { conditionSql } from '../../src/queries/shared/sql-condition.js';
import { principal, rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/** Orders of two tenants and three customers, in every status, some with no customer id match. */
const ORDERS = ['acme', 'globex'].flatMap((tenantId) =>
  ['ada', 'bob', 'cyd'].flatMap((customerId) =>
    (['placed', 'paid', 'cancelled'] as const).map((status) => ({ id: randomUUID(), tenantId, customerId, status })),
  ),
);

describe('Access conditions as SQL (read models queried with plain SQL)', () => {
  let service: TestService;

  before(async function () {
    this.timeout(60_000);
    service = await startTestService({ api: false });
    for (const order of ORDERS) {
      await rows(
        service.services,
        `insert into order_view (id, tenant_id, customer_id, customer_name, customer_email, customer_version, lines,
           total_cents, currency, status, status_history, placed_at, updated_at, version)
         values (?, ?, ?, 'n', 'e@x.io', 1, '[]', 100, 'EUR', ?, '[]', now(), now(), 1)`,
        [order.id, order.tenantId, order.customerId, order.status],
      );
    }
  });
  after(async () => service?.stop());

  const visibleBySql = async (ability: AppAbility, extra: object = {}) => {
    const access = accessSql(ability, 'read', 'Order', orderViewColumn);
    if (!access) return [];
    const filter = conditionSql(extra, orderViewColumn);
    const found = await rows<{ id: string }>(
      service.services,
      `select id from order_view where ${access.sql} and ${filter.sql}`,
      [...access.params, ...filter.params],
    );
    return found.map((row) => row.id).sort();
  };
  const visibleByAbility = (ability: AppAbility, keep: (order: (typeof ORDERS)[number]) => boolean = () => true) =>
    ORDERS.filter((order) => allows(ability, 'read', 'Order', order) && keep(order))
      .map((order) => order.id)
      .sort();

  const callers: Array<[string, Role[]]> = [
    ['customer', ['customer']],
    ['staff', ['staff']],
    ['admin', ['admin']],
    ['operator', ['operator']],
    ['customer and staff', ['customer', 'staff']],
    ['no role', []],
  ];
  for (const [name, roles] of callers) {
    it(`When a ${name} reads orders with SQL, then exactly the rows the ability allows come back`, async () => {
      const ability = defineAbilityFor(principal('ada', 'acme', roles));
      expect(await visibleBySql(ability)).to.deep.equal(visibleByAbility(ability));
    });
  }

  it('When list filters ($in, $ne, $not, $or, null) are added, then SQL and the ability agree row for row', async () => {
    const staff = defineAbilityFor(principal('sam', 'acme', ['staff']));
    const cases: Array<[object, (order: (typeof ORDERS)[number]) => boolean]> = [
      [{ status: { $in: ['paid', 'cancelled'] } }, (o) => ['paid', 'cancelled'].includes(o.status)],
      [{ status: { $ne: 'paid' } }, (o) => o.status !== 'paid'],
      [{ $not: { customerId: 'bob' } }, (o) => o.customerId !== 'bob'],
      [{ $or: [{ customerId: 'bob' }, { status: 'placed' }] }, (o) => o.customerId === 'bob' || o.status === 'placed'],
      [{ status: { $in: [] } }, () => false],
      [{ customerId: null }, () => false],
    ];
    for (const [filter, keep] of cases) {
      expect(await visibleBySql(staff, filter), JSON.stringify(filter)).to.deep.equal(visibleByAbility(staff, keep));
    }
  });

  it('When a condition holds an operator or a value SQL read models do not know, then it throws instead of ignoring it', () => {
    expect(() => conditionSql({ status: { $regex: 'p' } }, orderViewColumn)).to.throw(/\$regex/);
    expect(() => conditionSql({ $where: 'true' }, orderViewColumn)).to.throw(/\$where/);
    expect(() => conditionSql({ internalNote: 'x' }, orderViewColumn)).to.throw(/internalNote/);
    expect(() => conditionSql({ status: { nested: 1 } }, orderViewColumn)).to.throw(/scalars/);
  });

  it('When the same principal reads twice, then its ability is built once; another role set or tenant gets its own', () => {
    const first = abilityFor(principal('ada', 'acme', ['customer']));
    expect(abilityFor(principal('ada', 'acme', ['customer']))).to.equal(first);
    expect(abilityFor(principal('ada', 'acme', ['customer', 'staff']))).to.not.equal(first);
    expect(abilityFor(principal('ada', 'globex', ['customer']))).to.not.equal(first);
    expect(accessFilter(abilityFor(principal('ada', 'globex', ['customer'])), 'read', 'Order')).to.deep.equal({
      tenantId: 'globex',
      customerId: 'ada',
    });
  });
});
