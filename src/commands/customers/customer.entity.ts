import { defineEntity, p } from '@mikro-orm/core';
import type { CustomerEventPayloads, NewEvent } from '../../events/index.js';
import { SCHEMA_VERSIONS } from '../../events/upcasting.js';

export const CustomerSchema = defineEntity({
  name: 'Customer',
  tableName: 'customers',
  properties: {
    tenantId: p.text().primary(),
    id: p.text().primary(),
    name: p.text(),
    email: p.text(),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  primaryKeys: ['tenantId', 'id'],
});

/** What a profile may hold; the HTTP body's schema (ProfileBody) states the same rules. */
export const PROFILE_NAME_MAX = 200;
export const PROFILE_EMAIL_MAX = 320;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const isProfileName = (name: unknown): name is string =>
  typeof name === 'string' && name.length >= 1 && name.length <= PROFILE_NAME_MAX;
export const isProfileEmail = (email: unknown): email is string =>
  typeof email === 'string' && email.length <= PROFILE_EMAIL_MAX && EMAIL.test(email);

export type CustomerProfileChanged = NewEvent<'CustomerProfileChanged', CustomerEventPayloads['CustomerProfileChanged']>;

/** A customer's profile: created from the token on first sight, then edited only by the customer. */
export class Customer extends CustomerSchema.class {
  changeProfile(profile: { name: string; email: string }, now: Date): CustomerProfileChanged {
    this.name = profile.name;
    this.email = profile.email;
    this.updatedAt = now;
    this.version += 1;
    return this.profileChanged();
  }

  profileChanged(): CustomerProfileChanged {
    return {
      type: 'CustomerProfileChanged',
      schemaVersion: SCHEMA_VERSIONS.CustomerProfileChanged,
      aggregateType: 'Customer',
      aggregateId: this.id,
      aggregateVersion: this.version,
      payload: { profile: { customerId: this.id, name: this.name, email: this.email } },
    };
  }
}
CustomerSchema.setClass(Customer);
