/**
 * Reading stored JSON back: what the database holds was written by berth,
 * but a file edited by hand or by a newer berth must fail with a clear error
 * naming the record and the column, never as a TypeError later.
 */
import { internal } from './errors.ts';

export function parseStoredJson(text: unknown, what: string): unknown {
  if (typeof text !== 'string') throw internal('engine_record_corrupt', `${what}: not stored as text`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw internal('engine_record_corrupt', `${what}: stored JSON is unreadable`, { cause: err });
  }
}

export function parseStoredLabels(text: unknown, what: string): Record<string, string> {
  const value = parseStoredJson(text, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw internal('engine_record_corrupt', `${what}: labels are not an object`);
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw internal('engine_record_corrupt', `${what}: label ${JSON.stringify(k)} is not a string`);
    labels[k] = v;
  }
  return labels;
}

export function storedString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw internal('engine_record_corrupt', `${what}: not a string`);
  return value;
}

export function storedOptionalString(value: unknown, what: string): string | null {
  return value === null ? null : storedString(value, what);
}

export function storedOptionalInt(value: unknown, what: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' && typeof value !== 'bigint') throw internal('engine_record_corrupt', `${what}: not a number`);
  return Number(value);
}

export function storedInt(value: unknown, what: string): number {
  const n = storedOptionalInt(value, what);
  if (n === null) throw internal('engine_record_corrupt', `${what}: missing`);
  return n;
}
