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

export function oomKillCount(id: string, mountinfo = '/proc/self/mountinfo'): number {
  const mounts = parseMountInfo(readFileSync(mountinfo, 'utf8'));
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes('memory'));
  const candidates: string[] = [];
  if (v1 !== undefined) candidates.push(join(v1.mountPoint, 'berth', id, 'memory.oom_control'));
  for (const m of mounts.filter((x) => x.fstype === 'cgroup2')) candidates.push(join(m.mountPoint, 'berth', id, 'memory.events'));
  for (const file of candidates) {
    try {
      return count(readFileSync(file, 'utf8'));
    } catch {
      // Not this hierarchy.
    }
  }
  return 0;
}
