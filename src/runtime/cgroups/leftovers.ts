/**
 * Cgroups left behind by containers that are gone (a runtime killed in the
 * middle, a host crash), for `delete --force` and clean-ups: the children of
 * a parent path (default "/berth") in every hierarchy whose names are not
 * among the containers still known.
 */
import { posix } from 'node:path';
import { cgroupFsFor } from './fs.ts';
import { computePaths, readLayout } from './paths.ts';
import type { CgroupPaths } from './types.ts';

export interface Leftover {
  /** The child's name under the parent (the container id for default paths). */
  name: string;
  /** Only the directories that exist; give them to cgroupFromPaths(...).destroy(). */
  paths: CgroupPaths;
}

export async function findLeftovers(prefix: string, options: { fsRoot?: string; keep?: Iterable<string> } = {}): Promise<Leftover[]> {
  const fs = cgroupFsFor(options.fsRoot);
  const layout = readLayout(fs);
  const parent = posix.normalize(posix.join('/', prefix));
  const keep = new Set(options.keep ?? []);
  const parents = computePaths(layout, parent);
  const names = new Set<string>();
  for (const dir of Object.values(parents.dirs)) {
    for (const name of await fs.subdirs(dir).catch(() => [])) if (!keep.has(name)) names.add(name);
  }
  const out: Leftover[] = [];
  for (const name of [...names].sort()) {
    const all = computePaths(layout, posix.join(parent, name));
    const dirs: Record<string, string> = {};
    for (const [controller, dir] of Object.entries(all.dirs)) if (await fs.exists(dir)) dirs[controller] = dir;
    out.push({ name, paths: { mode: all.mode, dirs } });
  }
  return out;
}
