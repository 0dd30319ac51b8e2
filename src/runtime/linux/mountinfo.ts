/** /proc/self/mountinfo: which mount a path lives on. */
import { readFileSync } from 'node:fs';
import { parseMountInfo } from '../../sys/mountinfo.ts';

export function mountPoints(text = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  return parseMountInfo(text).map((m) => m.mountPoint);
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
