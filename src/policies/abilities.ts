import { AbilityBuilder, createMongoAbility, subject, type MongoAbility, type MongoQuery } from '@casl/ability';
import { rulesToCondition } from '@casl/ability/extra';
import type { FilterQuery } from '@mikro-orm/core';
import { ForbiddenError, NotFoundError } from '../platform/errors.js';
import type { Principal } from './principal.js';

/**
 * The one place that says who may do what. Command handlers check a loaded object with
 * `authorize` (or `allows`); query handlers turn the same rules into a database filter with `accessFilter`,
 * so lists never load rows they would then hide. Every rule is bounded by the caller's tenant.
 */
export type Action = 'read' | 'create' | 'update' | 'delete' | 'cancel' | 'ship' | 'operate';
/** Every kind of thing a rule can name. A read model names the subject its queries authorize (src/queries/read-models.ts). */
export const SUBJECT_TYPES = [
  'Order',
  'Product',
  'CustomerProfile',
  'CustomerSummary',
  'Command',
  'Webhook',
  'Report',
  'Queue',
  'Projection',
] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];
export type AppAbility = MongoAbility<[Action, SubjectType | Record<string, unknown>]>;

/** Order fields every reader may see; staff and admin also see `internalNote` and `riskScore`. */
export const ORDER_PUBLIC_FIELDS = [
  'id',
  'status',
  'customer',
  'lines',
  'totalCents',
  'currency',
  'placedAt',
  'updatedAt',
  'statusHistory',
];

/** Principals seen recently; each ability is a few KB (rules plus their compiled conditions). */
const MAX_CACHED_ABILITIES = 1000;
const cachedAbilities = new Map<string, AppAbility>();

/**
 * The ability of a principal, built once and reused while it is among the most recently used:
 * rules depend only on the tenant, the id and the roles (all part of the key), and building an
 * ability (and compiling its conditions on first use) on every request showed in the API's
 * profile. Abilities are never changed after they are built.
 */
export function abilityFor(principal: Principal): AppAbility {
  const key = JSON.stringify([principal.tenantId, principal.id, principal.roles]);
  let ability = cachedAbilities.get(key);
  if (ability) {
    cachedAbilities.delete(key); // re-inserted below: the Map's order is the recency order
  } else {
    ability = defineAbilityFor(principal);
    if (cachedAbilities.size >= MAX_CACHED_ABILITIES) cachedAbilities.delete(cachedAbilities.keys().next().value!);
  }
  cachedAbilities.set(key, ability);
  return ability;
}

export function defineAbilityFor(principal: Principal): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  const tenantId = principal.tenantId;
  const roles = new Set(principal.roles);
  const self = { tenantId, customerId: principal.id };

  // Everyone in the tenant follows their own commands.
  can('read', 'Command', { tenantId, principalId: principal.id });

  if (roles.has('customer')) {
    can('create', 'Order', self);
    can('read', 'Order', ORDER_PUBLIC_FIELDS, self);
    can('cancel', 'Order', self);
    can('read', 'Product', { tenantId, active: true });
    can(['read', 'update'], 'CustomerProfile', self);
    can('read', 'CustomerSummary', self);
  }
  if (roles.has('staff')) {
    can('read', 'Order', { tenantId });
    can(['cancel', 'ship'], 'Order', { tenantId });
    can('read', 'Product', { tenantId, active: true });
    can('read', 'CustomerSummary', { tenantId });
  }
  if (roles.has('admin')) {
    can(['read', 'cancel', 'ship'], 'Order', { tenantId });
    can(['create', 'read', 'update'], 'Product', { tenantId });
    can('read', 'CustomerSummary', { tenantId });
    can(['create', 'read', 'delete'], 'Webhook', { tenantId });
    can('read', 'Report', { tenantId });
    // No queues: jobs carry every tenant's events, failure reasons and stack traces, so the
    // queue dashboard and the queue API are for the platform's operators only.
  }
  if (roles.has('operator')) {
    // Operators steer the machinery and see no business data.
    can(['read', 'operate'], 'Queue');
    can(['read', 'operate'], 'Projection');
  }
  return build();
}

/** `ability.can` on a loaded object (never on a bare type: that means "some objects"). */
export function allows(ability: AppAbility, action: Action, type: SubjectType, object: object, field?: string): boolean {
  return ability.can(action, subject(type, { ...object }) as unknown as Record<string, unknown>, field);
}

/**
 * The ability's conditions for `action` on `type` as a MikroORM filter, or `null` when the
 * caller may see nothing of that type. `$not` comes from inverted (`cannot`) rules.
 */
export function accessFilter<T extends object>(ability: AppAbility, action: Action, type: SubjectType): FilterQuery<T> | null {
  const condition = rulesToCondition(
    ability.rulesFor(action, type),
    (rule) => (rule.inverted ? { $not: rule.conditions ?? {} } : (rule.conditions ?? {})) as MongoQuery,
    {
      and: (conditions) => (conditions.length === 1 ? conditions[0]! : { $and: conditions }),
      or: (conditions) => (conditions.length === 1 ? conditions[0]! : { $or: conditions }),
      empty: () => ({}),
    },
  );
  // CASL's Mongo-style operators ($and, $or, $not, $in, ...) are MikroORM's filter operators.
  return condition as FilterQuery<T> | null;
}

/**
 * Authorizes `action` on a loaded object: an object the caller may not even read answers
 * "not found" (no existence leak); a visible one the caller may not act on answers "forbidden".
 */
export function authorize(ability: AppAbility, action: Action, type: SubjectType, object: { id: string }): void {
  if (!allows(ability, 'read', type, object)) throw new NotFoundError(type, object.id);
  if (!allows(ability, action, type, object)) throw new ForbiddenError(action, type.toLowerCase());
}

/**
 * For actions with nothing to look up (a creation, the caller's own profile): the attributes the
 * object has or would have decide between allowed and forbidden.
 */
export function authorizeAttributes(ability: AppAbility, action: Action, type: SubjectType, attributes: object): void {
  if (!allows(ability, action, type, attributes)) throw new ForbiddenError(action, type.toLowerCase());
}
