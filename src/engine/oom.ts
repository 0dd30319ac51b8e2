/**
 * How many times the kernel's OOM killer struck a container's cgroup, read
 * before the runtime removes the cgroup: `oom_kill` in memory.events (v2)
 * or memory.oom_control (v1, kernels from 4.13). The engine puts the
 * container under `/berth/ID` (cgroupsPath in its spec).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountInfo } from '../sys/mountinfo.ts';

function count(text: string): number {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The files to try for a container, from the cgroup mounts of a mountinfo text. */
function candidatesIn(mountinfoText: string): (id: string) => string[] {
  const mounts = parseMountInfo(mountinfoText);
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes('memory'));
  const v2 = mounts.filter((x) => x.fstype === 'cgroup2').map((m) => m.mountPoint);
  return (id) => [
    ...(v1 === undefined ? [] : [join(v1.mountPoint, 'berth', id, 'memory.oom_control')]),
    ...v2.map((mountPoint) => join(mountPoint, 'berth', id, 'memory.events')),
  ];
}

/**
 * Where the last call found the cgroup file systems: mountinfo grows with
 * every running container (its rootfs), and a resident engine asks at
 * every exit. Read again when none of its files is there.
 */
let known: { mountinfo: string; candidates: (id: string) => string[] } | undefined;

function readFirst(files: readonly string[]): number | undefined {
  for (const file of files) {
    try {
      return count(readFileSync(file, 'utf8'));
    } catch {
      // Not this hierarchy.
    }
  }
  return undefined;
}

export function oomKillCount(id: string, mountinfo = '/proc/self/mountinfo'): number {
  if (known?.mountinfo === mountinfo) {
    const found = readFirst(known.candidates(id));
    if (found !== undefined) return found;
  }
  known = { mountinfo, candidates: candidatesIn(readFileSync(mountinfo, 'utf8')) };
  return readFirst(known.candidates(id)) ?? 0;
}
