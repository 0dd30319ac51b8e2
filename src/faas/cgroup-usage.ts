/**
 * The few numbers metering and autoscaling read from a replica's cgroup,
 * on v1, v2 and hybrid hosts alike (the paths the runtime kept in its
 * state, as the engine's stats read them), with one small synchronous read
 * each: the full stats of src/runtime/cgroups read dozens of files, too
 * many for every invocation.
 *
 *              v1 (and hybrid)                          v2
 *   CPU time   cpuacct/cpuacct.usage (ns)               cpu.stat usage_usec
 *   peak       memory/memory.max_usage_in_bytes         memory.peak
 *   limit      memory/memory.limit_in_bytes             memory.max
 *   OOM kills  memory/memory.oom_control oom_kill       memory.events oom_kill
 *
 * The peak can be reset (v1: write 0; v2, kernels from 6.12: a write to
 * memory.peak resets it for reads through the same descriptor, so the
 * file is kept open). Where neither works the peak is the cgroup's since
 * it was made, and `resettable` says so.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { CgroupPaths } from '../runtime/cgroups/index.ts';
import { parseCgroupNumber, parseKeyValues } from '../runtime/cgroups/write.ts';

function keyed(text: string | undefined, key: string): number | undefined {
  return text === undefined ? undefined : parseKeyValues(text).get(key);
}

function plain(text: string | undefined): number | undefined {
  const n = text === undefined ? NaN : parseCgroupNumber(text);
  return Number.isFinite(n) ? n : undefined;
}

export class ReplicaCgroup {
  private readonly v2: boolean;
  private readonly cpuDir: string | undefined;
  private readonly memDir: string | undefined;
  /** Open descriptors by mode and path: a control file re-read at offset 0 gives its current value, for one syscall instead of three. */
  private readonly fds = new Map<string, number>();
  private readonly buf = Buffer.alloc(1024);
  /** Whether resetPeak() works here (false until it worked once). */
  resettable = false;

  constructor(paths: CgroupPaths) {
    this.v2 = paths.mode === 'v2';
    this.cpuDir = this.v2 ? paths.dirs['unified'] : (paths.dirs['cpuacct'] ?? paths.dirs['cpu']);
    this.memDir = this.v2 ? paths.dirs['unified'] : paths.dirs['memory'];
  }

  private fd(path: string, writable: boolean): number {
    const key = `${writable ? 'w' : 'r'}${path}`;
    let fd = this.fds.get(key);
    if (fd === undefined) {
      fd = openSync(path, writable ? 'r+' : 'r');
      this.fds.set(key, fd);
    }
    return fd;
  }

  /** A control file's text; undefined when it cannot be read (cgroup gone: ENODEV, controller absent). */
  private read(dir: string | undefined, file: string, writable = false): string | undefined {
    if (dir === undefined) return undefined;
    try {
      const n = readSync(this.fd(`${dir}/${file}`, writable), this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      return undefined;
    }
  }

  /** CPU time of every process the cgroup has had, in ns. */
  cpuNs(): number | undefined {
    if (!this.v2) return plain(this.read(this.cpuDir, 'cpuacct.usage'));
    const us = keyed(this.read(this.cpuDir, 'cpu.stat'), 'usage_usec');
    return us === undefined ? undefined : us * 1000;
  }

  /** The memory limit in bytes; undefined when unlimited. */
  limitBytes(): number | undefined {
    const n = plain(this.read(this.memDir, this.v2 ? 'memory.max' : 'memory.limit_in_bytes'));
    // v1 writes "unlimited" as a page-rounded 2^63-1.
    return n === undefined || n >= 2 ** 62 ? undefined : n;
  }

  /** How many times the OOM killer struck in the cgroup. */
  oomKills(): number | undefined {
    return keyed(this.read(this.memDir, this.v2 ? 'memory.events' : 'memory.oom_control'), 'oom_kill');
  }

  private get peakFile(): string {
    return this.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes';
  }

  /** The highest memory use since the last reset (or since the cgroup was made), in bytes. */
  peakBytes(): number | undefined {
    // Through the descriptor the reset was written to: v2 resets the peak for that descriptor only.
    return plain(this.read(this.memDir, this.peakFile, this.resettable));
  }

  /** Starts the peak again from the current use; false when the kernel cannot. */
  resetPeak(): boolean {
    if (this.memDir === undefined) return false;
    try {
      writeSync(this.fd(`${this.memDir}/${this.peakFile}`, true), this.v2 ? 'reset' : '0');
      this.resettable = true;
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
