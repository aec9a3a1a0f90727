import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../policies/principal.js';
import { Customer, isProfileEmail, isProfileName, type CustomerProfileChanged } from './customer.entity.js';

/**
 * The caller's customer profile, created from the token's `name` and `email` the first time the
 * customer is seen; a hint that breaks the profile's rules is ignored (the id stands in for the
 * name, the email stays empty until the customer sets one), as the identity provider is not
 * ours to trust with our rules. Concurrent first requests race safely: the insert ignores conflicts and only
 * the request that created the row records the event.
 */
export async function customerOnFirstSight(
  em: EntityManager,
  principal: Principal,
  now: Date,
  record: (event: CustomerProfileChanged) => void,
  options: { forUpdate?: boolean } = {},
): Promise<Customer> {
  const lock = options.forUpdate ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {};
  const known = await em.findOne(Customer, { tenantId: principal.tenantId, id: principal.id }, lock);
  if (known) return known;
  const created = await em.execute(
    `insert into customers (tenant_id, id, name, email, version, created_at, updated_at)
     values (?, ?, ?, ?, 1, ?, ?) on conflict do nothing returning id`,
    [
      principal.tenantId,
      principal.id,
      isProfileName(principal.name) ? principal.name : principal.id,
      isProfileEmail(principal.email) ? principal.email : '',
      now,
      now,
    ],
  );
  const customer = await em.findOneOrFail(Customer, { tenantId: principal.tenantId, id: principal.id }, lock);
  if (created.length) record(customer.profileChanged());
  return customer;
}
