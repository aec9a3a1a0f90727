import { ReferenceKind, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/** One SQL statement with MikroORM's `?` placeholders, ready to be part of a larger one. */
export interface Statement {
  sql: string;
  params: unknown[];
}

interface InsertShape {
  sql: string;
  props: EntityProperty[];
}

const shapes = new WeakMap<EntityMetadata, InsertShape>();

/**
 * The `insert` of a new entity, built from MikroORM's metadata (columns, custom types such as
 * JSON and bigint) the way its unit of work would, but as a statement to send together with
 * others: an aggregate that is only created has no change set worth computing. Scalar
 * properties only; an entity with relations or embeddables is refused rather than half written.
 */
export function insertOf(em: EntityManager, entity: object): Statement {
  const meta = em.getMetadata().get(entity.constructor);
  const shape = shapes.get(meta) ?? shapeOf(meta);
  const valueOf = databaseValues(em, entity);
  return { sql: shape.sql, params: shape.props.map(valueOf) };
}

/** A property's value as the database takes it (custom types such as JSON and bigint converted). */
function databaseValues(em: EntityManager, entity: object): (prop: EntityProperty) => unknown {
  const platform = em.getPlatform();
  const record = entity as Record<string, unknown>;
  return (prop) => {
    const value = record[prop.name] ?? null;
    return prop.customType && value !== null
      ? prop.customType.convertToDatabaseValue(value, platform, { key: prop.name, mode: 'query-data' })
      : value;
  };
}

function shapeOf(meta: EntityMetadata): InsertShape {
  const props = meta.props.filter((prop) => prop.persist !== false && !prop.formula);
  const unsupported = props.filter((prop) => prop.kind !== ReferenceKind.SCALAR || prop.fieldNames.length !== 1);
  if (unsupported.length) {
    throw new Error(
      `insertOf(${meta.className}): only scalar properties are supported, not ${unsupported.map((p) => p.name).join(', ')}`,
    );
  }
  const columns = props.map((prop) => `"${prop.fieldNames[0]}"`).join(', ');
  const shape = { sql: `insert into "${meta.tableName}" (${columns}) values (${props.map(() => '?').join(', ')})`, props };
  shapes.set(meta, shape);
  return shape;
}

/**
 * The `update` of an entity's row, every scalar column from the entity, that applies only while
 * the row is still at `expectedVersion` (its `version` property): for a change decided on a copy
 * of the aggregate as a known event left it, with no read. The entity must hold the whole row as
 * of that version, since every column is written.
 */
export function updateAtVersionOf(em: EntityManager, entity: object, expectedVersion: number): Statement {
  const meta = em.getMetadata().get(entity.constructor);
  const { props } = shapes.get(meta) ?? shapeOf(meta);
  const keys = props.filter((prop) => prop.primary);
  const version = props.find((prop) => prop.name === 'version');
  if (!keys.length || !version) throw new Error(`updateAtVersionOf(${meta.className}): needs a primary key and a version`);
  const valueOf = databaseValues(em, entity);
  const set = props.filter((prop) => !prop.primary);
  const column = (prop: EntityProperty) => `"${prop.fieldNames[0]}"`;
  return {
    sql:
      `update "${meta.tableName}" set ${set.map((prop) => `${column(prop)} = ?`).join(', ')}` +
      ` where ${[...keys, version].map((prop) => `${column(prop)} = ?`).join(' and ')}`,
    params: [...set.map(valueOf), ...keys.map(valueOf), expectedVersion],
  };
}
