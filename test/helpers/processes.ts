/** Pids of the processes whose command line names one of `dirs`: what a bench or a service left running there. */
import { readdirSync, readFileSync } from 'node:fs';

export function processesUsing(dirs: readonly string[]): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // Gone meanwhile.
    }
    if (dirs.some((d) => cmdline.includes(d))) found.push({ pid: Number(pid), cmdline });
  }
  return found;
}
