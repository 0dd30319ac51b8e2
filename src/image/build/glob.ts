/**
 * Go's filepath.Match, which COPY and ADD sources use for wildcards: `*`
 * (any run of characters but "/"), `?` (one character but "/"), classes
 * `[abc]`, `[a-z]`, `[^a-z]`, and `\` quoting the next character. A
 * malformed pattern is an error, as in Go, whatever the name tested.
 */
import { invalidArgument } from '../../errors.ts';

const META = /[*?[\\]/;

export function hasWildcards(p: string): boolean {
  return META.test(p);
}

interface ClassResult {
  ok: boolean;
  matched: boolean;
  end: number;
}

/** Matches one character class starting after "[" at `i`; returns where it ends. */
function matchClass(pattern: string, i: number, ch: string | undefined): ClassResult {
  let negated = false;
  if (pattern[i] === '^') {
    negated = true;
    i++;
  }
  let matched = false;
  let n = 0;
  for (;;) {
    if (i >= pattern.length) return { ok: false, matched: false, end: i };
    if (pattern[i] === ']' && n > 0) {
      i++;
      break;
    }
    const lo = escaped(pattern, i);
    if (lo === undefined) return { ok: false, matched: false, end: i };
    i = lo.next;
    let hi = lo.ch;
    if (pattern[i] === '-') {
      const h = escaped(pattern, i + 1);
      if (h === undefined) return { ok: false, matched: false, end: i };
      hi = h.ch;
      i = h.next;
    }
    if (ch !== undefined && lo.ch <= ch && ch <= hi) matched = true;
    n++;
  }
  return { ok: true, matched: matched !== negated, end: i };
}

/** One (possibly escaped) class character; undefined when the class is malformed there. */
function escaped(pattern: string, i: number): { ch: string; next: number } | undefined {
  const c = pattern[i];
  if (c === undefined || c === '-' || c === ']') return undefined;
  if (c === '\\') {
    const e = pattern[i + 1];
    return e === undefined ? undefined : { ch: e, next: i + 2 };
  }
  const cp = pattern.codePointAt(i) ?? 0;
  const s = String.fromCodePoint(cp);
  return { ch: s, next: i + s.length };
}

/** A reason the pattern is malformed, or undefined. */
export function validatePattern(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (i + 1 >= pattern.length) return 'a "\\" at the end';
      i++;
    } else if (c === '[') {
      const r = matchClass(pattern, i + 1, undefined);
      if (!r.ok) return 'a malformed "[...]" class';
      i = r.end - 1;
    }
  }
  return undefined;
}

/** Go's filepath.Match of a whole name (throws on a malformed pattern). */
export function globMatch(pattern: string, name: string): boolean {
  const problem = validatePattern(pattern);
  if (problem !== undefined) throw invalidArgument('build_pattern', `pattern "${pattern}": ${problem}`);
  return matchAt(pattern, 0, [...name], 0);
}

function matchAt(p: string, pi: number, s: string[], si: number): boolean {
  while (pi < p.length) {
    const c = p[pi];
    if (c === '*') {
      while (p[pi] === '*') pi++;
      for (let k = si; k <= s.length; k++) {
        if (matchAt(p, pi, s, k)) return true;
        if (s[k] === '/') return false;
      }
      return false;
    }
    const ch = s[si];
    if (ch === undefined) return false;
    if (c === '?') {
      if (ch === '/') return false;
      pi++;
    } else if (c === '[') {
      const r = matchClass(p, pi + 1, ch);
      if (!r.matched) return false;
      pi = r.end;
    } else if (c === '\\') {
      if (p[pi + 1] !== ch) return false;
      pi += 2;
    } else {
      const cp = String.fromCodePoint(p.codePointAt(pi) ?? 0);
      if (cp !== ch) return false;
      pi += cp.length;
    }
    si++;
  }
  return si === s.length;
}
