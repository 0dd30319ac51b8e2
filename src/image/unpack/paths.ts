/**
 * Entry names as the applier uses them: cleaned lexically into a path
 * relative to the root with no `.`, `..` or empty components. A leading `/`
 * is dropped (the name is taken as relative to the root, as umoci and GNU tar
 * do); a `..` that would climb above the root is refused (node-tar's rule),
 * rather than silently clamped, because no image builder writes one. The
 * kernel still resolves every parent with RESOLVE_IN_ROOT, so this is the
 * first fence, not the only one.
 */

export interface CleanPath {
  /** The cleaned path ('' for the root itself). */
  path: string;
  /** Its parent directory ('' for the root). */
  parent: string;
  /** Its last component ('' for the root). */
  base: string;
}

/** Returns undefined when the name climbs above the root. */
export function cleanEntryPath(name: string): CleanPath | undefined {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  const base = out.pop() ?? '';
  const parent = out.join('/');
  return { path: parent === '' ? base : `${parent}/${base}`, parent, base };
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
}

/** The path and every ancestor of it (not the root). */
export function* selfAndAncestors(path: string): Generator<string> {
  for (let p = path; p !== ''; p = parentOf(p)) yield p;
}
