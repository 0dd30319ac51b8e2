/** /proc/self/mountinfo: which mount a path lives on. */
import { readFileSync } from 'node:fs';

/** Undoes mountinfo's octal escapes ("\040" for a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function mountPoints(text = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.push(unescape(field));
  }
  return out;
}

/** The mount point that contains `path` (the longest prefix). */
export function mountPointOf(path: string, points: string[] = mountPoints()): string {
  let best = '/';
  for (const p of points) {
    const prefix = p.endsWith('/') ? p : `${p}/`;
    if ((path === p || path.startsWith(prefix)) && p.length > best.length) best = p;
  }
  return best;
}
