/**
 * cgroups on cgroupfs (v1, v2, hybrid) for the runtime. Knows nothing of
 * containers: it gets a path, an id for the default path and the resources.
 *
 *   const cg = openCgroup({ cgroupsPath, id, resources }, { attachDevices });
 *   await cg.create(); await cg.addProcess(pid);   // cg.paths → state.json
 *   ... cgroupFromPaths(state.cgroupPaths).freeze() / stats() / destroy()
 */
import { CgroupfsCgroup } from './cgroup.ts';
import { cgroupFsFor } from './fs.ts';
import { cleanCgroupsPath, computePaths, readLayout } from './paths.ts';
import { modeOf, parseCgroupMounts } from './mountinfo.ts';
import type { Cgroup, CgroupMode, CgroupOptions, CgroupPaths, CgroupSpec } from './types.ts';
import { invalidArgument } from '../../errors.ts';

export type * from './types.ts';
export { cgroupMounts } from './mounts.ts';
export { watchOom, type OomWatchOptions } from './oom.ts';
export { findLeftovers, type Leftover } from './leftovers.ts';
export { compileDeviceFilter, encodeBpf, DEVICE_PROGRAM_LICENSE } from './devices/bpf.ts';
export { rulesFromSpec, type DeviceRule } from './devices/emulator.ts';
export { sharesToWeight, blkioWeightToIoWeight } from './v2-resources.ts';
export { warmCgroupJoin } from './warm.ts';

let cachedMode: CgroupMode | undefined;

/** The host's cgroup mode from /proc/self/mountinfo (cached). */
export function detectCgroupMode(): CgroupMode {
  cachedMode ??= detectCgroupModeFrom(cgroupFsFor(undefined).readSync('/proc/self/mountinfo'));
  return cachedMode;
}

/** The mode a mountinfo text shows; v1 when no cgroup file system is mounted at all. */
export function detectCgroupModeFrom(mountinfo: string): CgroupMode {
  return modeOf(parseCgroupMounts(mountinfo)) ?? 'v1';
}

/** Computes the directories of a container's cgroup (nothing is created until create()). */
export function openCgroup(spec: CgroupSpec, options: CgroupOptions = {}): Cgroup {
  const fs = cgroupFsFor(options.fsRoot);
  const paths = computePaths(readLayout(fs), cleanCgroupsPath(spec));
  return new CgroupfsCgroup(paths, { ...options, resources: spec.resources, rootless: spec.rootless });
}

/** Reopens a cgroup from the paths kept in state.json (validated: it comes from disk). */
export function cgroupFromPaths(paths: CgroupPaths, options: CgroupOptions = {}): Cgroup {
  const p: unknown = paths;
  const valid =
    typeof p === 'object' && p !== null && 'mode' in p && 'dirs' in p &&
    (p.mode === 'v1' || p.mode === 'v2' || p.mode === 'hybrid') &&
    typeof p.dirs === 'object' && p.dirs !== null &&
    Object.values(p.dirs).every((d) => typeof d === 'string' && d.startsWith('/') && !d.split('/').includes('..'));
  if (!valid) throw invalidArgument('cgroup_paths_invalid', `cgroup: stored cgroup paths ${JSON.stringify(paths)} are not valid`);
  return new CgroupfsCgroup({ mode: paths.mode, dirs: { ...paths.dirs } }, options);
}
