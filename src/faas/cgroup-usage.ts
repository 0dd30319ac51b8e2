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
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import type { CgroupPaths } from '../runtime/cgroups/index.ts';

/** Reads a small control file; undefined when it cannot be read (cgroup gone, controller absent). */
function readSmall(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function keyed(text: string | undefined, key: string): number | undefined {
  if (text === undefined) return undefined;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

function plain(text: string | undefined): number | undefined {
  const t = text?.trim();
  return t === undefined || !/^\d+$/.test(t) ? undefined : Number(t);
}

export class ReplicaCgroup {
  private readonly v2: boolean;
  private readonly cpuDir: string | undefined;
  private readonly memDir: string | undefined;
  private peakFd: number | undefined;
  /** Whether resetPeak() works here (false until it worked once). */
  resettable = false;

  constructor(paths: CgroupPaths) {
    this.v2 = paths.mode === 'v2';
    this.cpuDir = this.v2 ? paths.dirs['unified'] : (paths.dirs['cpuacct'] ?? paths.dirs['cpu']);
    this.memDir = this.v2 ? paths.dirs['unified'] : paths.dirs['memory'];
  }

  /** CPU time of every process the cgroup has had, in ns. */
  cpuNs(): number | undefined {
    if (this.cpuDir === undefined) return undefined;
    if (!this.v2) return plain(readSmall(`${this.cpuDir}/cpuacct.usage`));
    const us = keyed(readSmall(`${this.cpuDir}/cpu.stat`), 'usage_usec');
    return us === undefined ? undefined : us * 1000;
  }

  /** The memory limit in bytes; undefined when unlimited. */
  limitBytes(): number | undefined {
    if (this.memDir === undefined) return undefined;
    const n = plain(readSmall(`${this.memDir}/${this.v2 ? 'memory.max' : 'memory.limit_in_bytes'}`));
    // v1 writes "unlimited" as a page-rounded 2^63-1.
    return n === undefined || n >= 2 ** 62 ? undefined : n;
  }

  /** How many times the OOM killer struck in the cgroup. */
  oomKills(): number | undefined {
    if (this.memDir === undefined) return undefined;
    return keyed(readSmall(`${this.memDir}/${this.v2 ? 'memory.events' : 'memory.oom_control'}`), 'oom_kill');
  }

  /** The highest memory use since the last reset (or since the cgroup was made), in bytes. */
  peakBytes(): number | undefined {
    if (this.memDir === undefined) return undefined;
    if (!this.v2) return plain(readSmall(`${this.memDir}/memory.max_usage_in_bytes`));
    if (this.peakFd !== undefined) {
      const buf = Buffer.alloc(32);
      try {
        return plain(buf.toString('latin1', 0, readSync(this.peakFd, buf, 0, buf.length, 0)));
      } catch {
        return undefined;
      }
    }
    return plain(readSmall(`${this.memDir}/memory.peak`));
  }

  /** Starts the peak again from the current use; false when the kernel cannot. */
  resetPeak(): boolean {
    if (this.memDir === undefined) return false;
    try {
      if (!this.v2) {
        const fd = openSync(`${this.memDir}/memory.max_usage_in_bytes`, 'w');
        try {
          writeSync(fd, '0');
        } finally {
          closeSync(fd);
        }
      } else {
        this.peakFd ??= openSync(`${this.memDir}/memory.peak`, 'r+');
        writeSync(this.peakFd, 'reset');
      }
      this.resettable = true;
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.peakFd !== undefined) closeSync(this.peakFd);
    this.peakFd = undefined;
  }
}
