/** A JSON object (not null, not an array), the first check of input that arrives as unknown. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
