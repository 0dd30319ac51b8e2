/**
 * `berth inspect` / `container inspect` / `volume inspect` output as
 * docker's inspector writes it: without --format a JSON array indented by
 * four spaces (HTML characters escaped, as the daemon's encoder leaves
 * them), `--format json` the same array compact, otherwise the template
 * once per object. A template that fails on one object is reported and the
 * others still print (docker then exits 1).
 *
 * The template sees the object as docker's typed structs would: fields that
 * are Go maps there (Labels, Options, Networks, ...) are maps, so a missing
 * key prints `<no value>`; an unknown field fails, and as docker retries on
 * the raw JSON with missingkey=error, the error reads "map has no entry for
 * key".
 */
import type { BerthError } from '../../../errors.ts';
import { formatError, parseFormat } from './list.ts';
import { TemplateError } from './template.ts';

/** Keys whose values are Go maps in docker's inspect types. */
const MAP_FIELDS = new Set(['Labels', 'Options', 'Status', 'ExposedPorts', 'Volumes', 'Ports', 'Networks', 'Sysctls', 'StorageOpt', 'Tmpfs', 'PortBindings', 'Data', 'DriverOpts', 'Annotations']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The typed view: structs as plain objects, the map fields as Maps. */
function typedView(v: unknown, key = '', parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => typedView(x));
  if (!isRecord(v)) return v;
  const isMap = MAP_FIELDS.has(key) || (key === 'Config' && parent === 'LogConfig');
  if (isMap) return new Map(Object.entries(v).map(([k, x]) => [k, typedView(x)]));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typedView(x, k, key)]));
}

/** The raw view docker falls back to: every object a map. */
function rawView(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rawView);
  if (!isRecord(v)) return v;
  return new Map(Object.entries(v).map(([k, x]) => [k, rawView(x)]));
}

/** encoding/json's HTML escaping, which the daemon's answers carry. */
const escapeHtml = (json: string): string =>
  json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);

export interface InspectOutput {
  /** What goes to stdout. */
  out: string;
  /** One per object the template failed on (docker prints them and exits 1). */
  errors: BerthError[];
}

export function renderInspect(objects: readonly unknown[], format: string | undefined, flag = '--format'): InspectOutput {
  if (format === undefined || format === '') return { out: `${objects.length === 0 ? '[]' : escapeHtml(JSON.stringify(objects, null, 4))}\n`, errors: [] };
  if (format === 'json') return { out: `${escapeHtml(JSON.stringify(objects))}\n`, errors: [] };
  const template = parseFormat(flag, format);
  let out = '';
  const errors: BerthError[] = [];
  for (const object of objects) {
    try {
      out += `${template.execute(typedView(object))}\n`;
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      try {
        out += `${template.execute(rawView(object), { missingKey: 'error' })}\n`;
      } catch (rawErr) {
        if (!(rawErr instanceof TemplateError)) throw rawErr;
        errors.push(formatError(flag, format, rawErr));
      }
    }
  }
  return { out: out === '' ? '\n' : out, errors };
}
