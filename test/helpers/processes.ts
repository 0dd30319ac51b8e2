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

/** The parent of `pid`, from /proc/PID/stat (past the command's name, which may hold spaces and parentheses). */
export function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The pids of the processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (ppidOf(Number(name)) === pid) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
