/**
 * .dockerignore / .containerignore with Docker's semantics (moby's
 * patternmatcher and ignorefile): one pattern a line, `#` lines are
 * comments, each pattern trimmed and cleaned like Go's filepath.Clean with a
 * leading `/` dropped; `*` and `?` never cross a `/`, `[...]` classes,
 * `\` escapes, `**` matches any number of directories (none included); a
 * pattern that matches a directory excludes all below it; `!pattern`
 * re-includes, and the last matching line wins.
 *
 * Written here rather than taken from npm: the one port of this code there
 * has not been maintained for years, and the whole of it is a page.
 */
import { invalidArgument } from '../../errors.ts';
import { cleanPath } from './paths.ts';
import { validatePattern } from './glob.ts';

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  text: string;
  exclusion: boolean;
  type: MatchType;
  regexp: RegExp | undefined;
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/** Compiles as patternmatcher does, including its exact/prefix/suffix shortcuts (they differ from the regexp at the edges). */
function compile(text: string, exclusion: boolean): Pattern {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? '';
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        const first = i === 0;
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (first) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next !== undefined) {
        re += `\\${next}`;
        i++;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  return { text, exclusion, type, regexp: type === 'regexp' ? new RegExp(`${re}$`) : undefined };
}

function matches(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.text;
    case 'prefix':
      return path.startsWith(p.text.slice(0, -2));
    case 'suffix': {
      const suffix = p.text.slice(2);
      return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    case 'regexp':
      return p.regexp?.test(path) ?? false;
  }
}

export class IgnoreMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern re-includes (`!`): an excluded directory must still be walked. */
  readonly hasExclusions: boolean;

  constructor(lines: readonly string[], source = '.dockerignore') {
    const patterns: Pattern[] = [];
    for (const raw of lines) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw invalidArgument('build_ignore', `${source}: illegal exclusion pattern "!"`);
        exclusion = true;
        p = p.slice(1);
      }
      const problem = validatePattern(p);
      if (problem !== undefined) throw invalidArgument('build_ignore', `${source}: pattern "${raw.trim()}": ${problem}`);
      patterns.push(compile(p, exclusion));
    }
    this.patterns = patterns;
    this.hasExclusions = patterns.some((p) => p.exclusion);
  }

  /** Whether `path` (relative, "/"-separated, cleaned) is excluded: it or one of its parents matches, not undone by a later `!`. */
  excludes(path: string): boolean {
    if (path === '.' || path === '') return false;
    const parents = path.split('/').slice(0, -1);
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let hit = matches(p, path);
      for (let i = 1; !hit && i <= parents.length; i++) hit = matches(p, parents.slice(0, i).join('/'));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }
}

/** The lines of an ignore file as ignorefile.ReadAll gives them: BOM, comments and blanks dropped, `/x` made `x`. */
export function readIgnoreLines(text: string): string[] {
  const out: string[] = [];
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  for (const raw of lines) {
    if (raw.startsWith('#')) continue;
    let p = raw.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p !== '') {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}
