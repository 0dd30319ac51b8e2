/**
 * Root-only helpers for the cgroup integration tests: unique cgroup names,
 * processes that wait on stdin so the test can place them in a cgroup
 * before they run, and clean-up that kills what is left in a cgroup.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export const isRoot = process.getuid?.() === 0;
export const hostMode = (): string => {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  if (/ \/sys\/fs\/cgroup [^\n]* - cgroup2 /.test(text)) return 'v2';
  return / - cgroup cgroup /.test(text) ? 'v1-or-hybrid' : 'none';
};

let counter = 0;
/** "berth-test-<pid>-<n>-<tag>": every test's cgroups are its own. */
export function uniqueName(tag: string): string {
  counter++;
  return `berth-test-${process.pid}-${counter}-${tag}`;
}

export interface Waiting {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** Lets the script run past its first `read`. */
  go(): void;
  /** Exit code/signal with the output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `sh -c 'read _; <script>'`: starts, then waits for go() so it can join a cgroup first. */
export function waitingShell(script: string): Waiting {
  const child = spawn('/bin/sh', ['-c', `read _ ; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  if (child.pid === undefined) throw new Error('spawn /bin/sh failed');
  return { child, pid: child.pid, go: () => child.stdin.end('\n'), done };
}

/** SIGKILL the process group of a waiting shell and whatever it started; waits for it. */
export async function killGroup(w: Waiting): Promise<void> {
  try {
    process.kill(-w.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  await w.done;
}

/** Kills every process listed in a cgroup's cgroup.procs until it is empty (deadline 5 s). */
export async function emptyCgroup(dir: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    let pids: number[];
    try {
      pids = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return;
    }
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${dir}: processes ${pids.join(' ')} do not go away`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    await delay(10);
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function until<T>(what: string, ms: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}
