/**
 * Path arithmetic on "/"-separated strings with Go's path.Clean rules (the
 * ones Docker applies to ignore patterns and COPY arguments), kept apart
 * from node:path so host conventions never leak into image paths.
 */

/** Go's path.Clean: no empty, "." or resolvable ".." components; "" becomes ".". */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const body = out.join('/');
  if (rooted) return `/${body}`;
  return body === '' ? '.' : body;
}

/** An absolute image path for `p`, relative ones taken from `cwd` (itself absolute). */
export function absoluteIn(cwd: string, p: string): string {
  return cleanPath(p.startsWith('/') ? p : `${cwd === '' ? '/' : cwd}/${p}`);
}

/** "/a/b" → "a/b"; "/" → "" (paths inside a root, for openat2). */
export function relativeToRoot(abs: string): string {
  return cleanPath(abs).replace(/^\/+/, '').replace(/^\.$/, '');
}

export function basename(p: string): string {
  const c = cleanPath(p);
  const i = c.lastIndexOf('/');
  return i === -1 ? c : c.slice(i + 1);
}

export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
