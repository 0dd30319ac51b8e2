/**
 * Where the cgroup hierarchies are: parsed from /proc/self/mountinfo (the
 * mount points and their roots) and /proc/self/cgroup (the cgroup of this
 * process in each hierarchy, for relative cgroupsPath).
 */
import { parseMountInfo } from '../../sys/mountinfo.ts';
import type { CgroupMode } from './types.ts';

/** The v1 controllers a hierarchy can carry (a mount's super options name them). */
export const V1_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event',
  'net_prio', 'hugetlb', 'pids', 'rdma', 'misc',
]);

export interface CgroupMount {
  /** Where the hierarchy is mounted (host path, unescaped). */
  mountPoint: string;
  /** The cgroup shown at the mount point ("/" unless a sub-tree is bind-mounted). */
  root: string;
  /** v1: the controllers and "name=..." of the hierarchy; v2: empty. */
  controllers: string[];
  version: 1 | 2;
}

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  // Only cgroup lines are parsed (" - " is the separator, paths being escaped): a host with many
  // containers has hundreds of other mounts, and this runs on every create and exec.
  const cgroupLines = mountinfo.split('\n').filter((line) => line.includes(' - cgroup')).join('\n');
  for (const { fstype, root, mountPoint, superOptions } of parseMountInfo(cgroupLines)) {
    if (fstype === 'cgroup2') {
      mounts.push({ mountPoint, root, controllers: [], version: 2 });
    } else if (fstype === 'cgroup') {
      const controllers = superOptions.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
      if (controllers.length > 0) mounts.push({ mountPoint, root, controllers, version: 1 });
    }
  }
  return mounts;
}

/**
 * v2 when /sys/fs/cgroup itself is cgroup2 (or only cgroup2 is mounted),
 * hybrid when v1 hierarchies sit beside a cgroup2 mount, else v1.
 */
export function modeOf(mounts: readonly CgroupMount[]): CgroupMode | undefined {
  const v1 = mounts.some((m) => m.version === 1);
  const v2 = mounts.filter((m) => m.version === 2);
  if (v2.some((m) => m.mountPoint === '/sys/fs/cgroup')) return 'v2';
  if (!v1) return v2.length > 0 ? 'v2' : undefined;
  return v2.length > 0 ? 'hybrid' : 'v1';
}

/** The first mount of each v1 controller (a hierarchy mounted twice is used where first seen, like runc). */
export function v1Mounts(mounts: readonly CgroupMount[]): Map<string, CgroupMount> {
  const byController = new Map<string, CgroupMount>();
  for (const m of mounts) {
    if (m.version !== 1) continue;
    for (const c of m.controllers) if (!byController.has(c)) byController.set(c, m);
  }
  return byController;
}

/** The cgroup2 mount: /sys/fs/cgroup on v2, /sys/fs/cgroup/unified on hybrid, else the first one. */
export function v2Mount(mounts: readonly CgroupMount[]): CgroupMount | undefined {
  const v2 = mounts.filter((m) => m.version === 2);
  return v2.find((m) => m.mountPoint === '/sys/fs/cgroup') ?? v2.find((m) => m.mountPoint === '/sys/fs/cgroup/unified') ?? v2[0];
}

/**
 * /proc/self/cgroup: "id:controllers:path" lines. Keys are each controller
 * of a v1 line ("cpu", "cpuacct", "name=systemd") and "" for the v2 line.
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '') out.set('', path);
    else for (const c of controllers.split(',')) out.set(c, path);
  }
  return out;
}
