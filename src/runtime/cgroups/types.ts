/**
 * The cgroup library's public types. The library knows nothing of
 * containers: it is given a path, an id for the default path and the
 * resources, like youki's cgroup crate.
 */
import type { LinuxResources } from '../../oci/runtime-spec.ts';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface CgroupSpec {
  /** linux.cgroupsPath as given: absolute "/a/b", relative "a/b" (under this process's cgroup), or undefined. */
  cgroupsPath: string | undefined;
  /** Container id, used for the default path "/berth/<id>" when cgroupsPath is undefined. */
  id: string;
  resources?: LinuxResources | undefined;
  /** When true, a hierarchy that cannot be written is skipped with a warning instead of failing. */
  rootless?: boolean;
}

export interface CgroupPaths {
  mode: CgroupMode;
  /** Controller name ("memory", "pids", ..., "name=systemd", "unified") → absolute directory. */
  dirs: Record<string, string>;
}

/**
 * Loads and attaches a BPF_PROG_TYPE_CGROUP_DEVICE program (struct
 * bpf_insn[] as bytes) to the cgroup2 directory, replacing the device
 * program attached before. The runtime gives one that runs the executor's
 * `bpf_device` operation; this library has no way to make the bpf(2) call.
 */
export type DeviceProgramAttacher = (cgroupDir: string, program: Uint8Array, license: string) => Promise<void>;

export interface CgroupOptions {
  /** A fake cgroupfs tree (proc/self/mountinfo, proc/self/cgroup, sys/fs/cgroup/...) for unit tests. */
  fsRoot?: string;
  /** Needed on cgroup v2 when resources.devices is set. */
  attachDevices?: DeviceProgramAttacher;
}

export interface MountDescription {
  source: string;
  destination: string;
  fstype: string;
  options: string[];
  kind: 'dir' | 'file';
}

/** runc's `events --stats` data (types.Stats), the cgroup part. */
export interface CgroupStats {
  cpu: CpuStats;
  memory: MemoryStats;
  pids: { current?: number; limit?: number };
  blkio: BlkioStats;
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

export interface CpuStats {
  usage: {
    total?: number;
    percpu?: number[];
    percpu_kernel?: number[];
    percpu_user?: number[];
    kernel: number;
    user: number;
  };
  throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
}

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface MemoryStats {
  cache?: number;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw?: Record<string, number>;
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
}

export interface Cgroup {
  /** JSON-serialisable; the runtime keeps it in state.json and reopens with cgroupFromPaths. */
  readonly paths: CgroupPaths;
  /** Warnings (rootless skips, settings the kernel ignores), for the caller to show. */
  readonly warnings: readonly string[];
  /** mkdir every directory (idempotent), then apply the resources. */
  create(): Promise<void>;
  /** Write pid to cgroup.procs in every directory. */
  addProcess(pid: number): Promise<void>;
  /** Every pid in the cgroup and its descendants. */
  pids(): Promise<number[]>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  state(): Promise<'frozen' | 'thawed'>;
  update(resources: LinuxResources): Promise<void>;
  stats(): Promise<CgroupStats>;
  /** Remove the directories (children first; retries EBUSY briefly; kills nothing); missing ones are fine. */
  destroy(): Promise<void>;
}
