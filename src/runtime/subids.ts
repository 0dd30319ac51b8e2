/**
 * Subordinate ids (/etc/subuid, /etc/subgid) of a user: the ranges
 * newuidmap/newgidmap let that user map into a user namespace.
 */
import { readFileSync } from 'node:fs';
import type { IdMapping } from '../oci/runtime-spec.ts';

export interface SubIdRange {
  start: number;
  count: number;
}

export function subIds(file: string, user: string, id: number): SubIdRange[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: SubIdRange[] = [];
  for (const line of text.split('\n')) {
    const [name, start, count] = line.trim().split(':');
    if ((name === user || name === String(id)) && /^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? '')) {
      out.push({ start: Number(start), count: Number(count) });
    }
  }
  return out;
}

/** Container root is the user; container ids 1.. come from the first subordinate range, if any. */
export function rootlessMappings(hostId: number, ranges: readonly SubIdRange[]): IdMapping[] {
  const maps: IdMapping[] = [{ containerID: 0, hostID: hostId, size: 1 }];
  const first = ranges[0];
  if (first) maps.push({ containerID: 1, hostID: first.start, size: first.count });
  return maps;
}
