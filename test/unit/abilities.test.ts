import { expect } from 'chai';
import { accessFilter, allows, authorize, defineAbilityFor } from '../../src/policies/abilities.js';
import { ForbiddenError, NotFoundError } from '../../src/platform/errors.js';
import { principal } from '../support/fixtures.js';

const ownOrder = { id: 'o1', tenantId: 'acme', customerId: 'ada' };
const othersOrder = { id: 'o2', tenantId: 'acme', customerId: 'bob' };
const foreignOrder = { id: 'o3', tenantId: 'globex', customerId: 'ada' };

describe('Abilities', () => {
  const ada = defineAbilityFor(principal('ada', 'acme', ['customer']));
  const staff = defineAbilityFor(principal('sam', 'acme', ['staff']));
  const admin = defineAbilityFor(principal('alex', 'acme', ['admin']));
  const operator = defineAbilityFor(principal('otto', 'acme', ['operator']));

  it('When a customer reads orders, then only their own in their tenant are visible', () => {
    expect([ownOrder, othersOrder, foreignOrder].map((order) => allows(ada, 'read', 'Order', order))).to.deep.equal([
      true,
      false,
      false,
    ]);
  });

  it('When staff read orders, then every order of their tenant and none of another is visible', () => {
    expect([ownOrder, othersOrder, foreignOrder].map((order) => allows(staff, 'read', 'Order', order))).to.deep.equal([
      true,
      true,
      false,
    ]);
  });

  it('When a customer reads an order, then staff-only fields are not readable; staff and admin can read them', () => {
    expect(allows(ada, 'read', 'Order', ownOrder, 'internalNote')).to.equal(false);
    expect(allows(ada, 'read', 'Order', ownOrder, 'riskScore')).to.equal(false);
    expect(allows(ada, 'read', 'Order', ownOrder, 'totalCents')).to.equal(true);
    expect(allows(staff, 'read', 'Order', ownOrder, 'internalNote')).to.equal(true);
    expect(allows(admin, 'read', 'Order', ownOrder, 'riskScore')).to.equal(true);
  });

  it('When an operator asks for business data, then nothing is allowed; queues are', () => {
    expect(allows(operator, 'read', 'Order', ownOrder)).to.equal(false);
    expect(accessFilter(operator, 'read', 'Order')).to.equal(null);
    expect(operator.can('operate', 'Queue')).to.equal(true);
    expect(admin.can('operate', 'Queue')).to.equal(false);
    expect(admin.can('read', 'Queue'), 'queues hold every tenant: not even read for a tenant admin').to.equal(false);
  });

  it('When a list is filtered, then the ability becomes a tenant- and owner-bounded query', () => {
    expect(accessFilter(ada, 'read', 'Order')).to.deep.equal({ tenantId: 'acme', customerId: 'ada' });
    expect(accessFilter(staff, 'read', 'Order')).to.deep.equal({ tenantId: 'acme' });
  });

  it('When acting on an order the caller cannot see, then it is "not found"; on one they see but may not change, "forbidden"', () => {
    expect(() => authorize(ada, 'ship', 'Order', othersOrder)).to.throw(NotFoundError);
    expect(() => authorize(ada, 'ship', 'Order', ownOrder)).to.throw(ForbiddenError);
    expect(() => authorize(staff, 'ship', 'Order', othersOrder)).not.to.throw();
    expect(() => authorize(staff, 'ship', 'Order', foreignOrder)).to.throw(NotFoundError);
  });
});
