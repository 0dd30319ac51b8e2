/**
 * Typed reads of one object of a Docker request body (`HostConfig`,
 * `Config.Healthcheck`, ...), each failure naming the field by its path in
 * the body (`HostConfig.Memory: must be an integer`). `null` reads as
 * absent, as Go's decoder reads it. `refuseUnlessDefault` is how a field
 * berth has no part in is treated: the value clients send for "not asked"
 * passes, anything else is refused by name, never ignored.
 */
import { invalidArgument, type BerthError } from '../../errors.ts';
import { isObject } from '../../json-object.ts';

export function fieldInvalid(field: string, why: string): BerthError {
  return invalidArgument('api_field_invalid', `${field}: ${why}`, { details: { field } });
}

export function fieldUnsupported(field: string, why?: string): BerthError {
  return invalidArgument('api_field_unsupported', `${field} is not supported${why === undefined ? '' : ` (${why})`}`, { details: { field } });
}

/** What Go's zero values look like on the wire: absent, null, "", 0, false, [] and {}. */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

export class Fields {
  readonly path: string;
  readonly o: Readonly<Record<string, unknown>>;

  constructor(path: string, value: unknown) {
    if (value !== undefined && value !== null && !isObject(value)) throw fieldInvalid(path === '' ? 'body' : path, 'must be a JSON object');
    this.path = path;
    this.o = isObject(value) ? value : {};
  }

  name(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  raw(key: string): unknown {
    const v = this.o[key];
    return v === null ? undefined : v;
  }

  str(key: string): string | undefined {
    const v = this.raw(key);
    if (v !== undefined && typeof v !== 'string') throw fieldInvalid(this.name(key), 'must be a string');
    return v;
  }

  /** A string, with "" read as absent. */
  text(key: string): string | undefined {
    const v = this.str(key);
    return v === '' ? undefined : v;
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (v !== undefined && typeof v !== 'boolean') throw fieldInvalid(this.name(key), 'must be true or false');
    return v === true;
  }

  int(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw fieldInvalid(this.name(key), 'must be an integer');
    return v;
  }

  /** An integer, with 0 read as absent (Go's "not set"). */
  nonZero(key: string): number | undefined {
    const v = this.int(key);
    return v === 0 ? undefined : v;
  }

  /** A list of strings; Docker's StrSlice also takes one string for a list of one. */
  strs(key: string, oneString = false): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (oneString && typeof v === 'string') return [v];
    if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) throw fieldInvalid(this.name(key), 'must be a list of strings');
    return v;
  }

  /** An object of strings (Labels, Tmpfs). */
  strMap(key: string): Record<string, string> | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) throw fieldInvalid(this.name(key), 'must be an object of strings');
    return v as Record<string, string>;
  }

  list(key: string): unknown[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw fieldInvalid(this.name(key), 'must be a list');
    return v;
  }

  sub(key: string): Fields {
    return new Fields(this.name(key), this.raw(key));
  }

  /** Refused unless zero or one of `defaults` (the values clients send for "not asked"). */
  refuseUnlessDefault(key: string, defaults: readonly unknown[] = [], why?: string): void {
    const v = this.raw(key);
    if (isZero(v) || defaults.includes(v)) return;
    throw fieldUnsupported(`${this.name(key)}${typeof v === 'string' ? ` "${v}"` : ''}`, why);
  }
}
