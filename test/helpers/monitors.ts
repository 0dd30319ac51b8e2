/** The engine's monitors as tests see them from outside: alive or not, and which run. */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildDir } from '../../src/paths.ts';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** This checkout's monitors (other checkouts on the machine may run tests of their own). */
export function monitorPids(): number[] {
  const bin = join(buildDir(), 'berth-monitor');
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readlinkSync(`/proc/${p}/exe`) === bin;
    } catch {
      return false;
    }
  }).map(Number);
}

