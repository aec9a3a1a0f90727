/**
 * A MongoDB-style condition (what `accessFilter` turns an ability into, and what list filters
 * look like) as a SQL boolean expression with `?` placeholders, for read models queried with
 * plain SQL. Only what the abilities use is understood: equality (a `null` value means IS NULL),
 * `$eq`, `$ne`, `$in`, `$nin`, `$lt`, `$lte`, `$gt`, `$gte`, `$and`, `$or`, `$not`. Anything else
 * throws instead of being ignored, so a new kind of rule can never widen what a caller reads.
 */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** Maps a condition's field name (a read model's property) to its column; throws for unknown ones. */
export type ColumnOf = (field: string) => string;

const COMPARISONS: Record<string, string> = { $eq: '=', $ne: '<>', $lt: '<', $lte: '<=', $gt: '>', $gte: '>=' };

export function conditionSql(condition: object, columnOf: ColumnOf): SqlCondition {
  const params: unknown[] = [];
  const sql = objectSql(condition as Record<string, unknown>, columnOf, params);
  return { sql, params };
}

/** Every key of an object must hold: an empty object is "no restriction". */
function objectSql(condition: Record<string, unknown>, columnOf: ColumnOf, params: unknown[]): string {
  const parts = Object.entries(condition).map(([key, value]) => entrySql(key, value, columnOf, params));
  if (!parts.length) return 'true';
  return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`;
}

function entrySql(key: string, value: unknown, columnOf: ColumnOf, params: unknown[]): string {
  if (key === '$and' || key === '$or') {
    const conditions = asList(key, value).map((item) => objectSql(item as Record<string, unknown>, columnOf, params));
    if (!conditions.length) return key === '$and' ? 'true' : 'false';
    return `(${conditions.join(key === '$and' ? ' and ' : ' or ')})`;
  }
  if (key === '$not') return `not coalesce(${objectSql(value as Record<string, unknown>, columnOf, params)}, false)`;
  if (key.startsWith('$')) throw new Error(`condition operator ${key} is not supported in SQL read models`);
  return fieldSql(columnOf(key), value, params);
}

function fieldSql(column: string, value: unknown, params: unknown[]): string {
  if (!isOperatorObject(value)) return equalsSql(column, value, params);
  const parts = Object.entries(value).map(([operator, operand]) => {
    if (operator === '$eq') return equalsSql(column, operand, params);
    if (operator === '$ne') return `${column} is distinct from ${placeholder(operand, params)}`;
    if (operator === '$in' || operator === '$nin') {
      const list = asList(operator, operand);
      if (!list.length) return operator === '$in' ? 'false' : 'true';
      const sql = `${column} in (${list.map((item) => placeholder(item, params)).join(', ')})`;
      return operator === '$in' ? sql : `not coalesce(${sql}, false)`;
    }
    const comparison = COMPARISONS[operator];
    if (!comparison) throw new Error(`condition operator ${operator} is not supported in SQL read models`);
    return `${column} ${comparison} ${placeholder(operand, params)}`;
  });
  return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`;
}

function equalsSql(column: string, value: unknown, params: unknown[]): string {
  return value === null || value === undefined ? `${column} is null` : `${column} = ${placeholder(value, params)}`;
}

function placeholder(value: unknown, params: unknown[]): string {
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    throw new Error('condition values must be scalars or dates in SQL read models');
  }
  params.push(value);
  return '?';
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || value instanceof Date || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

function asList(operator: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`condition operator ${operator} needs a list`);
  return value;
}
