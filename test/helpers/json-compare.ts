/**
 * Field-by-field comparison of two JSON documents (a reference's and
 * berth's), for test/compat/docker-podman-compare.test.ts.
 *
 * Paths name fields with dots and array elements with [i]
 * (`HostConfig.PortBindings.8080/tcp[0].HostPort`). Values that differ by
 * nature (IDs, times, PIDs, paths, addresses) are compared by shape: a
 * `shapes` rule replaces a value its pattern matches with the rule's token,
 * on both sides, before comparing; a value that does not match stays
 * itself, so a wrong shape still shows as a difference. Go's nil slice or
 * map (`null`) and an empty one (`[]`, `{}`) count as equal: every Docker
 * client reads them alike. Arrays of different lengths differ as a whole.
 */

export type DifferenceKind = 'missing' | 'extra' | 'type' | 'value';

export interface Difference {
  path: string;
  /** missing: the reference has the field and berth not; extra: the other way round. */
  kind: DifferenceKind;
  reference: unknown;
  berth: unknown;
}

export interface Shape {
  /** A path pattern: `*` stands for one key, `[*]` for any array index. */
  path: string;
  pattern: RegExp;
  token: string;
}

export interface Allowed {
  path: string;
  kind: DifferenceKind;
  reason: string;
  /** The reference does not always differ here (a race on its side): an entry that may go unused. */
  sometimes?: true;
}

const escape = (s: string): string => s.replace(/[.+?^${}()|\\]/g, '\\$&');

/** A path pattern as a regular expression: `*` one key (no dot or bracket), `[*]` any index. */
export function pathPattern(pattern: string): RegExp {
  const body = pattern
    .split(/(\[\*\]|\*|\[|\])/)
    .map((part) => (part === '[*]' ? '\\[\\d+\\]' : part === '*' ? '[^.\\[]+' : part === '[' ? '\\[' : part === ']' ? '\\]' : escape(part)))
    .join('');
  return new RegExp(`^${body}$`);
}


const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isEmpty = (v: unknown): boolean => v === null || (Array.isArray(v) && v.length === 0) || (typeOf(v) === 'object' && Object.keys(v as object).length === 0);

export function compareJson(reference: unknown, berth: unknown, shapes: readonly Shape[] = [], root = ''): Difference[] {
  const compiled = shapes.map((s) => ({ ...s, re: pathPattern(s.path) }));
  const shaped = (path: string, v: unknown): unknown => {
    if (typeof v !== 'string' && typeof v !== 'number') return v;
    for (const s of compiled) if (s.re.test(path) && s.pattern.test(String(v))) return s.token;
    return v;
  };
  const out: Difference[] = [];
  const walk = (path: string, a: unknown, b: unknown): void => {
    const ta = typeOf(a);
    const tb = typeOf(b);
    if (isEmpty(a) && isEmpty(b) && (ta === 'null' || tb === 'null' || ta === tb)) return;
    if (ta !== tb) {
      // Go's nil against a filled slice or map is a different value, not another type.
      const nil = (ta === 'null' && (tb === 'array' || tb === 'object')) || (tb === 'null' && (ta === 'array' || ta === 'object'));
      out.push({ path, kind: nil ? 'value' : 'type', reference: a, berth: b });
      return;
    }
    if (ta === 'object') {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
        const p = path === '' ? k : `${path}.${k}`;
        if (!(k in bo)) out.push({ path: p, kind: 'missing', reference: ao[k], berth: undefined });
        else if (!(k in ao)) out.push({ path: p, kind: 'extra', reference: undefined, berth: bo[k] });
        else walk(p, ao[k], bo[k]);
      }
      return;
    }
    if (ta === 'array') {
      const aa = a as unknown[];
      const ba = b as unknown[];
      if (aa.length !== ba.length) out.push({ path, kind: 'value', reference: a, berth: b });
      else aa.forEach((x, i) => walk(`${path}[${i}]`, x, ba[i]));
      return;
    }
    if (shaped(path, a) !== shaped(path, b)) out.push({ path, kind: 'value', reference: a, berth: b });
  };
  walk(root, reference, berth);
  return out;
}

/** The differences no allowance explains, and the allowances nothing needed (a list kept true). */
export function explain(found: readonly Difference[], allowed: readonly Allowed[]): { unexplained: Difference[]; unused: Allowed[] } {
  const compiled = allowed.map((a) => ({ a, re: pathPattern(a.path), used: false }));
  const unexplained: Difference[] = [];
  for (const d of found) {
    const hit = compiled.find((c) => c.a.kind === d.kind && c.re.test(d.path));
    if (hit) hit.used = true;
    else unexplained.push(d);
  }
  return { unexplained, unused: compiled.filter((c) => !c.used && c.a.sometimes !== true).map((c) => c.a) };
}

/** One line a difference, for an assertion message. */
export function describeDifference(d: Difference): string {
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  return `${d.kind} ${d.path}: reference ${show(d.reference)}, berth ${show(d.berth)}`;
}
