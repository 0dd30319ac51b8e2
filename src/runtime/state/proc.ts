/**
 * What /proc says about a process: alive or not, and whether it is still
 * the same process (its start time), so a recycled pid is never signalled.
 */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  ppid: number;
  /** Field 22: start time in clock ticks since boot. */
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const ppid = rest[1];
  const start = rest[19];
  if (state === undefined || ppid === undefined || start === undefined) return undefined;
  return { state, ppid: Number(ppid), startTime: start };
}

/** The process exists, has not exited (zombies have), and is the one started at `startTime`. */
export function isAlive(pid: number, startTime: string | undefined): boolean {
  if (pid <= 0) return false;
  const st = readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}
