import { ValidationError } from '../../platform/errors.js';

/**
 * Opaque keyset cursors: the sort key of the last row served, so the next page starts right after
 * it with an index range scan instead of an OFFSET.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((part) => ['string', 'number'].includes(typeof part))) {
      return key as (string | number)[];
    }
  } catch {
    // fall through to the validation error below
  }
  throw new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by this endpoint' }]);
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
