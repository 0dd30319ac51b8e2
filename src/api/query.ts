/**
 * A request's query string read the way dockerd reads it: booleans as
 * `1/true/yes` or `0/false/no/none` (anything else is refused, naming the
 * parameter), decimal integers, and `filters`, a JSON object Docker clients
 * encode either as `{"label":{"a=b":true}}` (since API 1.22) or as the older
 * `{"label":["a=b"]}`. A bad value is a 400 naming the parameter.
 */
import { invalidArgument } from '../errors.ts';

/** A filter's name and the values asked for (an object matches when, for each name, one of its values does). */
export type Filters = ReadonlyMap<string, readonly string[]>;

const TRUE = new Set(['1', 'true', 'yes']);
const FALSE = new Set(['', '0', 'false', 'no', 'none']);

export class Query {
  readonly params: URLSearchParams;

  constructor(params: URLSearchParams) {
    this.params = params;
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  str(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  /** Every value of a repeated parameter (`?ps_args=a&ps_args=b`). */
  all(name: string): string[] {
    return this.params.getAll(name);
  }

  bool(name: string, fallback = false): boolean {
    const raw = this.params.get(name);
    if (raw === null) return fallback;
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw invalidArgument('api_query_invalid', `query parameter "${name}": "${raw}" is not a boolean (1/true or 0/false)`);
  }

  int(name: string): number | undefined;
  int(name: string, fallback: number): number;
  int(name: string, fallback?: number): number | undefined {
    const raw = this.params.get(name);
    if (raw === null || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw))) {
      throw invalidArgument('api_query_invalid', `query parameter "${name}": "${raw}" is not an integer`);
    }
    return Number(raw);
  }

  filters(name = 'filters'): Filters {
    return parseFilters(this.params.get(name) ?? '', name);
  }
}

/** Docker's filters JSON (both encodings) to a map; empty text is no filter. */
export function parseFilters(text: string, name = 'filters'): Filters {
  const out = new Map<string, string[]>();
  if (text.trim() === '') return out;
  const bad = (why: string): never => {
    throw invalidArgument('api_filters_invalid', `query parameter "${name}": ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad(`${JSON.stringify(text.slice(0, 200))} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad('want a JSON object of filter names');
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) {
      if (!value.every((v): v is string => typeof v === 'string')) bad(`filter "${key}": want a list of strings`);
      out.set(key, [...(value as string[])]);
    } else if (typeof value === 'object' && value !== null) {
      const values: string[] = [];
      for (const [v, on] of Object.entries(value as Record<string, unknown>)) {
        // dockerd's filters.Args.Get lists every key, whatever its boolean says; clients send true.
        if (typeof on !== 'boolean') bad(`filter "${key}": value "${v}" must map to true or false`);
        values.push(v);
      }
      out.set(key, values);
    } else {
      bad(`filter "${key}": want a list of strings or an object of values`);
    }
  }
  return out;
}
