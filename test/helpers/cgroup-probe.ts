/**
 * What this machine's kernel offers in its cgroup hierarchies, so a test
 * asserts a limit where the kernel has its file and berth's clear refusal
 * where it does not (blkio.weight needs CFQ or BFQ, cpu.rt_runtime_us
 * needs RT_GROUP_SCHED, memory.memsw.* needs swap accounting, hugetlb and
 * net_cls may not be mounted at all). A hierarchy's root lists other files
 * than its children (no pids.max at the root), so the probe makes an empty
 * cgroup of its own, lists it and removes it at once: root only, like the
 * tests that use it. Answers are cached for the test file's process.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCgroupMounts, v1Mounts, v2Mount } from '../../src/runtime/cgroups/mountinfo.ts';

const listings = new Map<string, ReadonlySet<string> | undefined>();

/** The v1 hierarchy of a controller, else the cgroup2 mount offering it (enabled for children as berth's create would). */
function hierarchyOf(controller: string): string | undefined {
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const v1 = v1Mounts(mounts).get(controller);
  if (v1 !== undefined) return v1.mountPoint;
  const v2 = v2Mount(mounts);
  if (v2 === undefined || v2.mountPoint !== '/sys/fs/cgroup') return undefined;
  const offered = readFileSync(join(v2.mountPoint, 'cgroup.controllers'), 'utf8').split(/\s+/);
  if (!offered.includes(controller)) return undefined;
  writeFileSync(join(v2.mountPoint, 'cgroup.subtree_control'), `+${controller}`);
  return v2.mountPoint;
}

/** The control files a new cgroup of the controller's hierarchy gets; undefined when the controller is not there. */
export function cgroupFiles(controller: string): ReadonlySet<string> | undefined {
  if (listings.has(controller)) return listings.get(controller);
  const top = hierarchyOf(controller);
  let files: ReadonlySet<string> | undefined;
  if (top !== undefined) {
    const probe = join(top, `berth-probe-${process.pid}`);
    mkdirSync(probe);
    try {
      files = new Set(readdirSync(probe));
    } finally {
      rmdirSync(probe);
    }
  }
  listings.set(controller, files);
  return files;
}

/** Whether a container's cgroup gets `file` of `controller` on this machine. */
export function kernelOffers(controller: string, file: string): boolean {
  return cgroupFiles(controller)?.has(file) ?? false;
}

/** The blkio weight file berth writes (CFQ's, else BFQ's), or undefined when the I/O scheduler offers none. */
export function blkioWeightFile(): string | undefined {
  return ['blkio.weight', 'blkio.bfq.weight'].find((f) => kernelOffers('blkio', f));
}

/** The CPUs a new cpuset gets (the root's "0-1"), and the last of them, for a test that pins a container to one. */
export function hostCpus(): { all: string; last: string } {
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const v1 = v1Mounts(mounts).get('cpuset')?.mountPoint;
  const file = v1 !== undefined ? join(v1, 'cpuset.cpus') : join(v2Mount(mounts)?.mountPoint ?? '/sys/fs/cgroup', 'cpuset.cpus.effective');
  const all = readFileSync(file, 'utf8').trim();
  const last = all.split(',').at(-1)?.split('-').at(-1) ?? '0';
  return { all, last };
}

/** A CPU number no kernel has (NR_CPUS is 8192 at most): writing it to cpuset.cpus fails with ERANGE. */
export const CPU_NO_KERNEL_HAS = '65536';
