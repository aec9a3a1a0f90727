/**
 * Text PostgreSQL can store: no NUL character (text and jsonb refuse U+0000) and well-formed
 * UTF-16 (a lone surrogate has no UTF-8 encoding; the driver would silently turn it into U+FFFD).
 * Every string that enters the service is checked against this once, at the edge.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/**
 * The path (`lines[0].name`, `["bad\u0000key"]`) of the first string in `value` (object keys
 * included) that PostgreSQL could not store, or `null` when every string is storable.
 */
export function firstUnstorableText(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path || '(value)';
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = firstUnstorableText(item, `${path}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const name = isStorableText(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
      if (!isStorableText(key)) return name;
      const found = firstUnstorableText(item, name);
      if (found) return found;
    }
  }
  return null;
}
