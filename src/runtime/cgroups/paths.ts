/**
 * From linux.cgroupsPath to one directory per hierarchy, as runc's cgroupfs
 * driver computes them:
 * - absolute "/a/b": under each hierarchy's mount point;
 * - relative "a/b": under this process's own cgroup (v1), or under the
 *   parent of it (v2, since a cgroup with processes cannot have controllers
 *   enabled for its children);
 * - undefined: "/berth/<id>".
 * The path is cleaned as if it were absolute first, so ".." never climbs
 * out of a hierarchy. systemd's "slice:prefix:name" is refused: berth drives
 * cgroupfs only.
 */
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { invalidArgument, unavailable } from '../../errors.ts';
import { type CgroupFs, HostCgroupFs } from './fs.ts';
import { modeOf, parseCgroupMounts, parseProcCgroup, v1Mounts, v2Mount, type CgroupMount } from './mountinfo.ts';
import type { CgroupMode, CgroupPaths, CgroupSpec } from './types.ts';

export const DEFAULT_PARENT = '/berth';

/** "slice:prefix:name" with no slash: what a systemd cgroup driver would be given. */
function isSystemdStyle(path: string): boolean {
  return !path.includes('/') && path.split(':').length === 3;
}

/** The cleaned inner path, absolute ("/a/b") or relative ("a/b"). */
export function cleanCgroupsPath(spec: Pick<CgroupSpec, 'cgroupsPath' | 'id'>): string {
  const given = spec.cgroupsPath;
  if (given === undefined || given === '') {
    if (spec.id === '' || spec.id.includes('/') || spec.id === '.' || spec.id === '..' || spec.id.includes('\0')) {
      throw invalidArgument('cgroup_path_invalid', `cgroup: container id "${spec.id}" cannot name a cgroup`);
    }
    return `${DEFAULT_PARENT}/${spec.id}`;
  }
  if (given.includes('\0') || given.includes('\n')) {
    throw invalidArgument('cgroup_path_invalid', `linux.cgroupsPath ${JSON.stringify(given)}: contains a NUL or newline`);
  }
  if (isSystemdStyle(given)) {
    throw invalidArgument(
      'cgroup_path_systemd',
      `linux.cgroupsPath "${given}": systemd-style "slice:prefix:name" paths need a systemd cgroup driver; berth manages cgroupfs directly, give a path like "/machine/${given.split(':')[2] ?? 'name'}"`,
    );
  }
  const cleaned = posix.normalize(posix.join('/', given));
  const inner = given.startsWith('/') ? cleaned : cleaned.slice(1);
  if (inner === '/' || inner === '') {
    throw invalidArgument('cgroup_path_invalid', `linux.cgroupsPath "${given}": names the root cgroup; a container needs its own`);
  }
  return inner;
}

/** The directory of this process's cgroup in a hierarchy, as seen at the mount point. */
function ownDir(mount: CgroupMount, own: string | undefined): string {
  let path = own ?? '/';
  // Inside a container without a cgroup namespace the mount shows a sub-tree.
  if (mount.root !== '/' && (path === mount.root || path.startsWith(`${mount.root}/`))) path = path.slice(mount.root.length) || '/';
  return posix.join(mount.mountPoint, path);
}

export interface HostLayout {
  mode: CgroupMode;
  mounts: CgroupMount[];
  procCgroup: Map<string, string>;
}

/**
 * The layout last read from the host, and how to tell it still holds: this
 * process's /proc/self/cgroup unchanged and each cgroup file system still
 * the one mounted there (its device). A resident process (berthd) makes a
 * cgroup per container, and mountinfo, read otherwise each time, grows
 * with every container's rootfs.
 */
let hostLayout: { procCgroup: string; devices: string; layout: HostLayout } | undefined;

function devicesOf(mounts: readonly CgroupMount[]): string {
  return mounts
    .map((m) => {
      try {
        return `${m.mountPoint}:${statSync(m.mountPoint).dev}`;
      } catch {
        return `${m.mountPoint}:gone`;
      }
    })
    .join('\n');
}

export function readLayout(fs: CgroupFs): HostLayout {
  // A fake tree (tests) is read each time.
  if (!(fs instanceof HostCgroupFs)) return readLayoutNow(fs);
  let procCgroup = '';
  try {
    procCgroup = fs.readSync('/proc/self/cgroup');
  } catch {
    // Compared as empty; readLayoutNow says what is missing.
  }
  const last = hostLayout;
  if (last !== undefined && last.procCgroup === procCgroup && devicesOf(last.layout.mounts) === last.devices) return last.layout;
  const layout = readLayoutNow(fs);
  hostLayout = { procCgroup, devices: devicesOf(layout.mounts), layout };
  return layout;
}

function readLayoutNow(fs: CgroupFs): HostLayout {
  const mounts = parseCgroupMounts(fs.readSync('/proc/self/mountinfo'));
  const mode = modeOf(mounts);
  if (mode === undefined) throw unavailable('cgroup_not_mounted', 'cgroup: no cgroup or cgroup2 file system is mounted (/proc/self/mountinfo)');
  let procCgroup = new Map<string, string>();
  try {
    procCgroup = parseProcCgroup(fs.readSync('/proc/self/cgroup'));
  } catch {
    // Only relative paths need it; they fail below when it is missing.
  }
  return { mode, mounts, procCgroup };
}

/**
 * The cgroup.procs file of this process's own cgroup in one hierarchy (a v1
 * one where there are, else the cgroup2 one): writing "0" there moves this
 * process where it already is.
 */
export function ownProcsFile(layout: HostLayout): string | undefined {
  if (layout.mode !== 'v2') {
    for (const [controller, mount] of v1Mounts(layout.mounts)) return posix.join(ownDir(mount, layout.procCgroup.get(controller)), 'cgroup.procs');
  }
  const unified = v2Mount(layout.mounts);
  return unified === undefined ? undefined : posix.join(ownDir(unified, layout.procCgroup.get('')), 'cgroup.procs');
}

function dirFor(mount: CgroupMount, inner: string, own: string | undefined, v2: boolean): string {
  if (inner.startsWith('/')) return posix.join(mount.mountPoint, inner);
  let base = ownDir(mount, own);
  if (v2 && base !== mount.mountPoint) base = posix.dirname(base);
  return posix.join(base, inner);
}

export function computePaths(layout: HostLayout, inner: string): CgroupPaths {
  const dirs: Record<string, string> = {};
  if (layout.mode !== 'v2') {
    for (const [controller, mount] of v1Mounts(layout.mounts)) {
      dirs[controller] = dirFor(mount, inner, layout.procCgroup.get(controller), false);
    }
  }
  const unified = v2Mount(layout.mounts);
  if (unified !== undefined) dirs['unified'] = dirFor(unified, inner, layout.procCgroup.get(''), layout.mode === 'v2');
  return { mode: layout.mode, dirs };
}
