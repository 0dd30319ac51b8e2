/** The cgroups library wired to the executor (v2 device filters are attached through it). */
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import { cgroupFromPaths, type Cgroup, type CgroupOptions, type CgroupPaths, openCgroup } from '../cgroups/index.ts';
import { runHostPlan } from '../executor/executor.ts';
import { Plan } from '../plan/encode.ts';

const options: CgroupOptions = {
  attachDevices: (cgroup, program, license) =>
    runHostPlan(new Plan().add('bpf_device', { cgroup, program, license }, `attach the device filter to ${cgroup}`)),
};

export function containerCgroup(id: string, cgroupsPath: string | undefined, resources: LinuxResources | undefined): Cgroup {
  return openCgroup({ cgroupsPath, id, resources, rootless: process.geteuid?.() !== 0 }, options);
}

export function cgroupOf(paths: CgroupPaths): Cgroup {
  return cgroupFromPaths(paths, options);
}
