/**
 * Reading list-manager JSON without trusting its shape: PHP apps answer `[]` for an empty object,
 * numbers as strings, and proxies answer HTML. Everything here returns a safe default instead of
 * throwing; the adapters decide what a missing field means.
 */

/** The parsed body when it is a JSON object, else undefined (empty, HTML, an array, junk). */
function readJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The values of an object, or the items of an array (PHP keyed collections come as either). */
function asItems(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') return Object.values(value);
  return [];
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A count that may be a number, a digit string or null. */
function readCount(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return 0;
}

export { asItems, asRecord, readCount, readJsonObject, str };
