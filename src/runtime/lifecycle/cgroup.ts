/** The cgroups library wired to the executor (v2 device filters are attached through it). */
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import { cgroupFromPaths, type Cgroup, type CgroupOptions, type CgroupPaths, openCgroup } from '../cgroups/index.ts';
import { runHostPlan } from '../executor/executor.ts';
import type { RuntimeHost } from '../host/host.ts';
import { Plan } from '../plan/encode.ts';

function options(host: RuntimeHost): CgroupOptions {
  return {
    attachDevices: (cgroup, program, license) =>
      runHostPlan(host, new Plan().add('bpf_device', { cgroup, program, license }, `attach the device filter to ${cgroup}`)),
  };
}

export function containerCgroup(host: RuntimeHost, id: string, cgroupsPath: string | undefined, resources: LinuxResources | undefined): Cgroup {
  return openCgroup({ cgroupsPath, id, resources, rootless: process.geteuid?.() !== 0 }, options(host));
}

/** The cgroup of a container from its state; `host` where resources may be applied (update). */
export function cgroupOf(paths: CgroupPaths, host?: RuntimeHost): Cgroup {
  return cgroupFromPaths(paths, host ? options(host) : {});
}
