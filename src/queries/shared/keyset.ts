import { ValidationError } from '../../platform/errors.js';
import { isUuid } from '../../platform/ids.js';
import { isStorableText } from '../../platform/storable-text.js';

/** Longest key part a cursor of ours ever holds (a SKU, an ISO timestamp, a UUID). */
const MAX_PART_LENGTH = 128;

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
    if (Array.isArray(key) && key.length === arity && key.every(isSaneKeyPart)) {
      return key as (string | number)[];
    }
  } catch {
    // fall through to the validation error below
  }
  throw notOurCursor();
}

/** Rows are stamped by this service: no cursor of ours points before 1970 or after 9999. */
const LATEST = Date.UTC(10_000, 0, 1);

/** A `[timestamp, uuid]` cursor, exactly as encoded from a row (so no date PostgreSQL cannot hold). */
export function decodeTimeIdCursor(cursor: string): { at: Date; id: string } {
  const [text, id] = decodeCursor(cursor, 2);
  const at = new Date(typeof text === 'string' ? text : Number.NaN);
  const inRange = at.getTime() >= 0 && at.getTime() < LATEST;
  if (!inRange || at.toISOString() !== text || typeof id !== 'string' || !isUuid(id)) throw notOurCursor();
  return { at, id };
}

export const notOurCursor = () =>
  new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by this endpoint' }]);

/** A forged cursor decodes to anything: only short, storable text and safe integers go to SQL. */
function isSaneKeyPart(part: unknown): boolean {
  if (typeof part === 'number') return Number.isSafeInteger(part);
  return typeof part === 'string' && part.length <= MAX_PART_LENGTH && isStorableText(part);
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
