/** The cgroups library wired to the executor (v2 device filters are attached through it) and to the context's cgroupfs. */
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import { cgroupFromPaths, type Cgroup, type CgroupOptions, type CgroupPaths, openCgroup } from '../cgroups/index.ts';
import { runHostPlan } from '../executor/executor.ts';
import { Plan } from '../plan/encode.ts';
import type { RuntimeContext } from './context.ts';

type CgroupContext = Pick<RuntimeContext, 'host' | 'cgroupFsRoot'>;

function options(ctx: Partial<CgroupContext>, applying: boolean): CgroupOptions {
  const fs: CgroupOptions = ctx.cgroupFsRoot === undefined ? {} : { fsRoot: ctx.cgroupFsRoot };
  const { host } = ctx;
  if (!applying || host === undefined) return fs;
  return {
    ...fs,
    attachDevices: (cgroup, program, license) =>
      runHostPlan(host, new Plan().add('bpf_device', { cgroup, program, license }, `attach the device filter to ${cgroup}`)),
  };
}

export function containerCgroup(ctx: CgroupContext, id: string, cgroupsPath: string | undefined, resources: LinuxResources | undefined): Cgroup {
  return openCgroup({ cgroupsPath, id, resources, rootless: process.geteuid?.() !== 0 }, options(ctx, true));
}

/** The cgroup of a container from its state, to read and signal; `applying` (with a host) where resources may be written (update). */
export function cgroupOf(ctx: Pick<RuntimeContext, 'cgroupFsRoot'>, paths: CgroupPaths): Cgroup;
export function cgroupOf(ctx: CgroupContext, paths: CgroupPaths, applying: true): Cgroup;
export function cgroupOf(ctx: Partial<CgroupContext>, paths: CgroupPaths, applying = false): Cgroup {
  return cgroupFromPaths(paths, options(ctx, applying));
}
